/**
 * The training curves: reward mean with its ±std band above, then — once the run has evaluated — the eval set's
 * fidelity with its diversity beside it (so a reward bought with faithfulness shows), loss below; each drawn by the
 * pure `renderLineChart` to exactly the space the layout gives it. Short of room, loss goes first, then the eval.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import { renderLineChart, type ChartPoint } from "./render-line-chart.js";
import { formatNumber } from "./format.js";
import type { EvalPoint, MetricPoint } from "./run-view.js";

export interface LineChartProps {
  points: readonly MetricPoint[];
  evals?: readonly EvalPoint[];
  width: number;
  height: number;
}

/** Each chart needs a title, an x axis and at least two plot rows to be worth drawing. */
const MIN_CHART_HEIGHT = 4;

export function LineChart({ points, evals = [], width, height }: LineChartProps): JSX.Element {
  const showEval = evals.length > 0 && height >= 2 * MIN_CHART_HEIGHT;
  const both = height >= (showEval ? 3 : 2) * MIN_CHART_HEIGHT;
  const evalHeight = showEval ? Math.floor(height * (both ? 0.3 : 0.45)) : 0;
  const rewardHeight = both ? Math.ceil((height - evalHeight) * (showEval ? 0.55 : 0.6)) : height - evalHeight;
  const reward: ChartPoint[] = points.map((p) => ({
    x: p.step,
    y: p.rewardMean,
    band: [p.rewardMean - p.rewardStd, p.rewardMean + p.rewardStd],
  }));
  const loss: ChartPoint[] = points.map((p) => ({ x: p.step, y: p.loss }));
  return (
    <Box flexDirection="column" width={width} height={height}>
      {renderLineChart("reward (mean ± std)", reward, { width, height: rewardHeight }).map((line, i) => (
        <Text key={`r${i}`} color="green" wrap="truncate">
          {line}
        </Text>
      ))}
      {showEval
        ? renderLineChart(evalTitle(evals), fidelityPoints(evals), { width, height: evalHeight }).map((line, i) => (
            <Text key={`e${i}`} color="cyan" wrap="truncate">
              {line}
            </Text>
          ))
        : null}
      {both
        ? renderLineChart("loss", loss, { width, height: height - rewardHeight - evalHeight }).map((line, i) => (
            <Text key={`l${i}`} color="yellow" wrap="truncate">
              {line}
            </Text>
          ))
        : null}
    </Box>
  );
}

/** The monitor the eval line plots: fidelity, or the eval reward where the run measures no fidelity. */
const plotted = (evals: readonly EvalPoint[]) => (evals.some((e) => e.monitors.fidelity !== undefined) ? "fidelity" : "reward");

function fidelityPoints(evals: readonly EvalPoint[]): ChartPoint[] {
  const key = plotted(evals);
  return evals.map((e) => ({ x: e.step, y: e.monitors[key] ?? NaN }));
}

/** "eval fidelity · diversity 0.12", the latest diversity (and drift) beside the plotted line's name. */
function evalTitle(evals: readonly EvalPoint[]): string {
  const last = evals.at(-1)!.monitors;
  const name = `eval ${plotted(evals)}`;
  const extra = (["diversity", "drift"] as const).flatMap((k) => (last[k] === undefined ? [] : [`${k} ${formatNumber(last[k])}`]));
  return [name, ...extra].join(" · ");
}
