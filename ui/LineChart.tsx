/**
 * The training curves: reward mean with its ±std band above, loss below, each drawn by the pure
 * `renderLineChart` to exactly the space the layout gives it. Too short for two charts, it keeps the reward.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import { renderLineChart, type ChartPoint } from "./render-line-chart.js";
import type { MetricPoint } from "./run-view.js";

export interface LineChartProps {
  points: readonly MetricPoint[];
  width: number;
  height: number;
}

/** Each chart needs a title, an x axis and at least two plot rows to be worth drawing. */
const MIN_CHART_HEIGHT = 4;

export function LineChart({ points, width, height }: LineChartProps): JSX.Element {
  const both = height >= 2 * MIN_CHART_HEIGHT;
  const rewardHeight = both ? Math.ceil(height * 0.6) : height;
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
      {both
        ? renderLineChart("loss", loss, { width, height: height - rewardHeight }).map((line, i) => (
            <Text key={`l${i}`} color="yellow" wrap="truncate">
              {line}
            </Text>
          ))
        : null}
    </Box>
  );
}
