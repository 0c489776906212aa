/**
 * The report page as one self-contained HTML string: run summary and key config, reward (mean ± std) and loss
 * charts as inline SVG, the evaluation (monitors, fidelity against reward, the eval samples per evaluation) when the
 * run evaluated, and a grid of the logged images per step (newest first) captioned `prompt | reward`. Nothing
 * is fetched: styles are inline and images are data URIs. All text is escaped here. A run that ended DONE before its
 * last step was stopped, and says so; a reward or prompt source left "" shows what the run used (its model's default).
 */
import { existsSync } from "node:fs";
import { modelSource } from "../models/embedded.js";
import { resolveRunDefaults, type RunDefaults } from "../models/model-defaults.js";
import { escapeHtml } from "./escape.js";
import { lineChartSvg } from "./line-chart.js";
import { evalSection } from "./eval-section.js";
import type { MetricRow, ReportImage, RunReport } from "./read-run.js";

/** Config fields shown up front; the whole config is one click away. */
const KEY_CONFIG = [
  "model", "reward", "prompts", "seed", "num_epochs", "train_batch_size", "train_gradient_accumulation_steps",
  "train_learning_rate", "sample_num_steps", "sample_guidance_scale", "sample_eta", "truncated_backprop_rand",
  "truncated_rand_backprop_minmax", "truncated_backprop_timestep", "loss", "lora_rank", "log_image_freq",
];
/** Shown image width in CSS pixels; smaller images are scaled up without smoothing. */
const THUMB = 128;

export const REPORT_STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #222; margin: 24px auto; max-width: 1120px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; }
h3 { font-size: 14px; margin: 16px 0 6px; color: #555; }
.state { font-weight: 600; } .state.DONE { color: #15803d; } .state.FAILED { color: #b91c1c; }
table { border-collapse: collapse; } td, th { padding: 2px 12px 2px 0; text-align: left; vertical-align: top; }
th { font-weight: 500; color: #555; } code { font-size: 12px; }
.notes, .errors { background: #fffbeb; border: 1px solid #f59e0b; padding: 8px 12px; }
.errors { background: #fef2f2; border-color: #ef4444; white-space: pre-wrap; }
.columns { display: flex; flex-wrap: wrap; gap: 8px 48px; } figure { margin: 0; } .chart { max-width: 100%; height: auto; display: block; margin-bottom: 8px; }
.grid { display: flex; flex-wrap: wrap; gap: 12px; }
.sample { width: ${THUMB}px; } .sample figcaption { font-size: 12px; word-wrap: break-word; }
.sample img { display: block; border: 1px solid #ccc; }
.sample img.pixelated { image-rendering: pixelated; }
.placeholder { width: ${THUMB - 2}px; height: ${THUMB - 2}px; border: 1px dashed #b45309; color: #b45309; font-size: 11px;
  display: flex; align-items: center; justify-content: center; text-align: center; overflow: hidden; }
`;

const text = (v: unknown) => escapeHtml(String(v));
/** Rewards and losses in captions and the summary: three decimals, or what the non-finite value is. */
const formatValue = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));

export function reportHtml(report: RunReport): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>alignprop run ${text(report.name)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header><h1>alignprop run ${text(report.name)}</h1>${statusLine(report)}</header>
${report.notes.length ? `<ul class="notes">${report.notes.map((n) => `<li>${text(n)}</li>`).join("")}</ul>` : ""}
${report.errors.length ? `<div class="errors">${report.errors.map(text).join("\n\n")}</div>` : ""}
<section id="summary"><h2>Summary</h2>${summaryTable(report)}</section>
<section id="charts"><h2>Training curves</h2>
${metricCharts(report.metrics).map((svg) => `<figure>${svg}</figure>`).join("\n")}
</section>
${evalSection(report.evals, grid)}
<section id="images"><h2>Images</h2>
${report.imageSteps.length ? [...report.imageSteps].reverse().map((s) => grid(`step ${s.step}`, s.step, s.images)).join("\n") : "<p>No images were logged.</p>"}
</section>
</body>
</html>
`;
}

function statusLine(report: RunReport): string {
  const s = report.status;
  if (!s) return "<p>No status was logged.</p>";
  const label = s.state === "DONE" && s.step < s.total ? "STOPPED" : s.state;
  return `<p><span class="state ${text(s.state)}">${text(label)}</span> at step ${s.step}/${s.total} — ${text(s.message)}</p>`;
}

function summaryTable(report: RunReport): string {
  const rows: [string, string][] = [];
  const m = report.metrics;
  if (m.length) {
    const finite = m.filter((r) => Number.isFinite(r.rewardMean));
    const best = finite.reduce<MetricRow | undefined>((b, r) => (!b || r.rewardMean > b.rewardMean ? r : b), undefined);
    rows.push(["reward mean", `${formatValue(m[0]!.rewardMean)} (step ${m[0]!.step}) → ${formatValue(m[m.length - 1]!.rewardMean)} (step ${m[m.length - 1]!.step})`]);
    if (best) rows.push(["best reward mean", `${formatValue(best.rewardMean)} at step ${best.step}`]);
    rows.push(["final loss", formatValue(m[m.length - 1]!.loss)]);
  }
  if (report.startMs !== undefined && report.endMs !== undefined) {
    rows.push(["started", new Date(report.startMs).toISOString()]);
    rows.push(["duration", duration(report.endMs - report.startMs)]);
  }
  if (report.status?.backend) rows.push(["backend", report.status.backend]);
  const keyConfig = KEY_CONFIG.filter((k) => k in report.config).map((k): [string, string] => [k, configValue(report.config[k])]);
  for (const [field, value] of Object.entries(usedDefaults(report.config))) {
    const row = keyConfig.find(([k]) => k === field);
    if (row) row[1] = `${value} (default)`;
  }
  const all = Object.entries(report.config).map(([k, v]): [string, string] => [k, configValue(v)]);
  return `<div class="columns"><div><h3>Run</h3>${table(rows)}</div>
<div><h3>Configuration</h3>${table(keyConfig)}
<details><summary>All ${all.length} config.json fields</summary>${table(all)}</details></div></div>`;
}

const table = (rows: [string, string][]) =>
  `<table>${rows.map(([k, v]) => `<tr><th>${text(k)}</th><td>${text(v)}</td></tr>`).join("")}</table>`;

/** The reward and prompts a run left "" and took from its model (see model-defaults.ts). */
function usedDefaults(config: Record<string, unknown>): Partial<RunDefaults> {
  const reward = typeof config.reward === "string" ? config.reward : "";
  const prompts = typeof config.prompts === "string" ? config.prompts : "";
  if ((reward && prompts) || typeof config.model !== "string") return {};
  const source = modelSource(config.model);
  let defaults: RunDefaults;
  try {
    defaults = resolveRunDefaults({ reward, prompts }, existsSync(source) ? source : undefined);
  } catch {
    return {};
  }
  return { ...(reward ? {} : { reward: defaults.reward }), ...(prompts ? {} : { prompts: defaults.prompts }) };
}

function configValue(v: unknown): string {
  if (v === "") return "—";
  return typeof v === "string" ? v : JSON.stringify(v);
}

function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s - 60 * m)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function metricCharts(metrics: readonly MetricRow[]): string[] {
  const reward = metrics.map((r) => ({ x: r.step, y: r.rewardMean, lo: r.rewardMean - r.rewardStd, hi: r.rewardMean + r.rewardStd }));
  return [
    lineChartSvg({
      id: "reward",
      title: "Reward mean ± std over steps",
      xLabel: "step",
      yLabel: "reward",
      integerX: true,
      series: [{ label: "reward mean", color: "#2563eb", points: reward, bandLabel: "± std" }],
    }),
    lineChartSvg({
      id: "loss",
      title: "Loss over steps",
      xLabel: "step",
      yLabel: "loss",
      integerX: true,
      series: [{ label: "loss", color: "#dc2626", points: metrics.map((r) => ({ x: r.step, y: r.loss })) }],
    }),
    // The algorithm's own values (DDPO: approx_kl, clip_fraction), one chart each.
    ...[...new Set(metrics.flatMap((r) => Object.keys(r.scalars)))].sort().map((name) =>
      lineChartSvg({
        id: `scalar-${name}`,
        title: `${name} over steps`,
        xLabel: "step",
        yLabel: name,
        integerX: true,
        series: [{ label: name, color: "#059669", points: metrics.flatMap((r) => (name in r.scalars ? [{ x: r.step, y: r.scalars[name]! }] : [])) }],
      }),
    ),
  ];
}

function grid(title: string, step: number, images: readonly ReportImage[]): string {
  return `<section class="step" data-step="${step}"><h3>${text(title)}</h3><div class="grid">${images.map(sample).join("")}</div></section>`;
}

function sample(image: ReportImage): string {
  const caption = `<figcaption>${text(image.prompt)} | ${formatValue(image.reward)}</figcaption>`;
  if (!image.src) {
    return `<figure class="sample missing"><div class="placeholder">image missing<br>${text(image.path)}<br>${text(image.missing ?? "")}</div>${caption}</figure>`;
  }
  const height = image.width > 0 ? Math.round((THUMB * image.height) / image.width) : THUMB;
  const pixelated = image.width < THUMB ? ' class="pixelated"' : "";
  return `<figure class="sample"><img${pixelated} src="${image.src}" alt="${text(image.prompt)}" width="${THUMB}" height="${height}">${caption}</figure>`;
}
