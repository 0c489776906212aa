/**
 * The report's evaluation section (runs with eval_freq): the monitors over steps, fidelity against the eval reward
 * (one point per evaluation, joined in step order, so a reward bought with faithfulness shows as a line running
 * right and down), and the eval samples per evaluation, newest first — the same prompts and seeds in every grid.
 */
import { lineChartSvg } from "./line-chart.js";
import type { EvalStep, ReportImage } from "./read-run.js";

const COLOURS = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2"];

/** `grid` draws one step's images (the report's own grid), titled. */
export function evalSection(evals: readonly EvalStep[], grid: (title: string, step: number, images: readonly ReportImage[]) => string): string {
  if (!evals.length) return "";
  const names = [...new Set(evals.flatMap((e) => Object.keys(e.monitors)))].sort();
  const monitors = lineChartSvg({
    id: "eval-monitors",
    title: "Evaluation monitors over steps",
    xLabel: "step",
    yLabel: "value",
    integerX: true,
    series: names.map((name, i) => ({
      label: name,
      color: COLOURS[i % COLOURS.length]!,
      points: evals.flatMap((e) => (name in e.monitors ? [{ x: e.step, y: e.monitors[name]! }] : [])),
    })),
  });
  const both = evals.filter((e) => e.monitors.reward !== undefined && e.monitors.fidelity !== undefined);
  const tradeOff = both.length
    ? lineChartSvg({
        id: "eval-fidelity-reward",
        title: `Fidelity against reward on the eval set (steps ${both[0]!.step}–${both.at(-1)!.step}, in step order)`,
        xLabel: "eval reward",
        yLabel: "fidelity",
        series: [{ label: "fidelity", color: "#7c3aed", points: both.map((e) => ({ x: e.monitors.reward!, y: e.monitors.fidelity! })) }],
      })
    : "";
  const grids = [...evals].reverse().map((e) => grid(`eval · step ${e.step}`, e.step, e.images));
  return `<section id="eval"><h2>Evaluation</h2>
<figure>${monitors}</figure>${tradeOff ? `\n<figure>${tradeOff}</figure>` : ""}
${grids.join("\n")}
</section>`;
}
