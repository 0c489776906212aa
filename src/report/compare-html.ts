/**
 * The AlignProp-vs-DDPO page (`alignprop bench --compare ddpo`): reward against generated samples and against
 * seconds for both algorithms (each step's mean, and the running mean the sample ratio is read from), and the
 * numbers; each algorithm's prompt fidelity on the fixed eval set against generated samples, so the reward is read at
 * matched faithfulness. Self-contained like report.html.
 */
import type { Comparison, AlgorithmResult } from "../bench/compare.js";
import { formatFidelity } from "../bench/fidelity.js";
import { escapeHtml } from "./escape.js";
import { lineChartSvg, type Series } from "./line-chart.js";
import { REPORT_STYLE } from "./report-html.js";

const COLOURS = { alignprop: "#2563eb", ddpo: "#d97706" } as const;
const NAMES = { alignprop: "AlignProp", ddpo: "DDPO" } as const;
type Algorithm = keyof typeof COLOURS;

function series(r: AlgorithmResult, algorithm: Algorithm, x: "samples" | "seconds"): Series {
  return { label: NAMES[algorithm], color: COLOURS[algorithm], points: r.steps.map((s) => ({ x: s[x], y: s.rewardMean })) };
}

function fidelitySeries(r: AlgorithmResult, algorithm: Algorithm): Series {
  return { label: NAMES[algorithm], color: COLOURS[algorithm], points: r.fidelity.map((p) => ({ x: p.samples, y: p.fidelity })) };
}

const fixed = (v: number | null, digits = 3) => (v === null ? "not reached" : v.toFixed(digits));

export function compareHtml(c: Comparison, settings: Record<string, unknown>): string {
  const algorithms: Algorithm[] = ["alignprop", "ddpo"];
  const chart = (x: "samples" | "seconds") =>
    lineChartSvg({
      id: `reward-vs-${x}`,
      title: `Reward mean per step against ${x === "samples" ? "generated samples" : "wall-clock seconds"}`,
      xLabel: x === "samples" ? "samples generated" : "seconds",
      yLabel: "reward",
      integerX: x === "samples",
      series: algorithms.map((a) => series(c[a], a, x)),
    });
  const row = (label: string, f: (r: AlgorithmResult) => string) =>
    `<tr><th>${escapeHtml(label)}</th>${algorithms.map((a) => `<td>${escapeHtml(f(c[a]))}</td>`).join("")}</tr>`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>AlignProp vs DDPO</title><style>${REPORT_STYLE}</style></head>
<body>
<header><h1>AlignProp vs DDPO</h1>
<p>Same pipeline, reward, prompts and seed; each algorithm trained for the same wall-clock budget.
AlignProp reached DDPO's final reward (running mean over ${c.window} samples) after
<strong>${c.alignpropSamplesToDdpoFinal ?? "—"}</strong> samples; DDPO generated ${c.ddpo.samples}:
sample ratio <strong data-ratio>${fixed(c.sampleRatio, 1)}</strong>×, at prompt fidelity
<strong data-fidelity-at-reach>${formatFidelity(c.alignpropFidelityAtDdpoFinal)}</strong> against DDPO's final
${formatFidelity(c.ddpo.finalFidelity)}.</p></header>
<section id="numbers"><h2>Numbers</h2><table>
<tr><th></th>${algorithms.map((a) => `<th>${NAMES[a]}</th>`).join("")}</tr>
${row("run", (r) => r.description)}
${row("samples generated", (r) => String(r.samples))}
${row("seconds", (r) => r.seconds.toFixed(1))}
${row("samples / second", (r) => r.samplesPerSecond.toFixed(2))}
${row(`reward, first ${c.window} samples`, (r) => r.initialReward.toFixed(4))}
${row(`reward, last ${c.window} samples`, (r) => r.finalReward.toFixed(4))}
${row("prompt fidelity, base model", (r) => formatFidelity(r.initialFidelity))}
${row("prompt fidelity, last eval", (r) => formatFidelity(r.finalFidelity))}
</table>
<details><summary>settings</summary><pre>${escapeHtml(JSON.stringify(settings, null, 2))}</pre></details></section>
<section id="charts"><h2>Reward curves</h2>
<figure>${chart("samples")}</figure>
<figure>${chart("seconds")}</figure>
<figure>${lineChartSvg({
    id: "fidelity-vs-samples",
    title: "Prompt fidelity on the fixed eval set against generated samples",
    xLabel: "samples generated",
    yLabel: "fidelity",
    integerX: true,
    series: algorithms.map((a) => fidelitySeries(c[a], a)),
  })}</figure>
</section>
</body>
</html>
`;
}
