/**
 * Issue 18's targets side by side, from one `npm run bench` report: the TF.js engine (the backend a run picks, as its
 * model calls run it) against PyTorch in the project's Python on the same work and threads.
 * - tiny-UNet training step: TF.js time / PyTorch time ≤ 1.0 and peak RSS / PyTorch's ≤ 1.5 (each task in a process
 *   of its own, so each peak RSS is that process's whole life: imports, weights, tracing, the timed steps);
 * - conv and matmul: TF.js GFLOP/s / PyTorch's ≥ 0.8, for each form the engine runs them in, from the median runs
 *   and from the fastest (on cores other processes share, the figure they disturb least);
 * - the AlignProp step with the quickstart's settings: TF.js engine / torch engine ≤ 1.0.
 * A figure either side lacks is null.
 */
import { roundRatios } from "./rounds.js";

type Json = Record<string, unknown>;

export const TARGETS = { unet_time_ratio: 1, unet_rss_ratio: 1.5, kernel_gflops_share: 0.8, alignprop_time_ratio: 1 } as const;

const KERNELS = ["conv_fwd", "conv_bwd_input", "conv_bwd_filter", "matmul"] as const;

/** The kernel forms a TF.js report may hold: what a call outside a model runs, and the traced-graph forms. */
const FORMS = {
  one_kernel_session: "",
  graph_weights_as_inputs: "graph",
  graph_frozen_weight: "graph_frozen_weight",
} as const;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const at = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Json)[k] : undefined), o);
const ratio = (a: unknown, b: unknown): number | null => {
  const [x, y] = [num(a), num(b)];
  return x === null || y === null || y === 0 ? null : x / y;
};

export interface TargetsInput {
  /** The TF.js backend the engine runs on, and its report (kernels, unet_step, unet_step_ops, peak RSS per task). */
  backend: string;
  tfjs: Json;
  /** The PyTorch report (kernels, unet_step, torch: { version, threads }, peak RSS per task). */
  torch: Json;
  /** The bench's "engines" section, if it ran. */
  engines?: Json;
}

export function issueTargets({ backend, tfjs, torch, engines }: TargetsInput): Json {
  const kernels = Object.fromEntries(
    KERNELS.map((k) => [
      k,
      Object.fromEntries(
        Object.entries(FORMS).flatMap(([form, key]) => {
          const mine = key ? at(tfjs, key) : tfjs;
          // Same FLOPs either side: the GFLOP/s share is PyTorch's time over TF.js's.
          const median = ratio(at(torch, k, "ms"), at(mine, k, "ms"));
          const fastest = ratio(at(torch, k, "min_ms"), at(mine, k, "min_ms"));
          return median === null ? [] : [[form, { median, fastest_runs: fastest }]];
        }),
      ),
    ]),
  );
  return {
    backend,
    peer: at(torch, "torch") ?? null,
    unet_step: {
      tfjs_ms: num(at(tfjs, "unet_step", "ms")),
      torch_ms: num(at(torch, "unet_step", "ms")),
      time_ratio: ratio(at(tfjs, "unet_step", "ms"), at(torch, "unet_step", "ms")),
      time_ratio_fastest_runs: ratio(at(tfjs, "unet_step", "min_ms"), at(torch, "unet_step", "min_ms")),
      time_ratio_per_round: roundRatios(at(tfjs, "unet_step", "round_ms") as number[] | undefined, at(torch, "unet_step", "round_ms") as number[] | undefined),
      traced_graphs: at(tfjs, "unet_step", "traced_graphs") ?? null,
      tfjs_ops_ms: num(at(tfjs, "unet_step_ops", "ms")),
      tfjs_ops_time_ratio: ratio(at(tfjs, "unet_step_ops", "ms"), at(torch, "unet_step", "ms")),
      tfjs_peak_rss_mb: num(tfjs.unet_peak_rss_mb),
      torch_peak_rss_mb: num(torch.unet_peak_rss_mb),
      rss_ratio: ratio(tfjs.unet_peak_rss_mb, torch.unet_peak_rss_mb),
      tfjs_ops_rss_ratio: ratio(tfjs["unet-ops_peak_rss_mb"], torch.unet_peak_rss_mb),
      target: { time_ratio: TARGETS.unet_time_ratio, rss_ratio: TARGETS.unet_rss_ratio },
    },
    kernel_gflops_share_of_torch: { ...kernels, target: TARGETS.kernel_gflops_share },
    alignprop_quickstart: {
      tfjs_s_per_step: num(at(engines, "tfjs", "s_per_step")),
      torch_s_per_step: num(at(engines, "torch", "s_per_step")),
      time_ratio: num(at(engines, "tfjs_over_torch", "s_per_step")),
      traced_graphs: at(engines, "tfjs", "traced_graphs") ?? null,
      target: { time_ratio: TARGETS.alignprop_time_ratio },
    },
  };
}

const fmt = (v: unknown, digits = 2, unit = "") => (num(v) === null ? "n/a" : `${(v as number).toFixed(digits)}${unit}`);
const perRound = (v: unknown) => (Array.isArray(v) && v.length > 1 ? `; rounds ${v.map((x) => fmt(x)).join(" ")}×` : "");
const mark = (v: unknown, ok: (x: number) => boolean) => (num(v) === null ? "" : ok(v as number) ? "  (met)" : "  (not met)");

/** The targets as a few lines of text (the bench prints them on stderr; the JSON holds the same figures). */
export function targetsText(t: Json, host: { cpu: string; loadAverage: readonly number[] }): string {
  const peer = t.peer as { version?: string; threads?: number } | null;
  const u = t.unet_step as Json;
  const k = t.kernel_gflops_share_of_torch as Record<string, Record<string, { median: number; fastest_runs: number | null }>>;
  const a = t.alignprop_quickstart as Json;
  const share = (name: string) =>
    Object.entries(FORMS)
      .map(([form]) => `${form.replaceAll("_", " ")} ${fmt(k[name]?.[form]?.median)}/${fmt(k[name]?.[form]?.fastest_runs)}`)
      .join(", ");
  return [
    `issue 18 targets on ${String(t.backend)} against torch ${peer?.version ?? "n/a"} (${peer?.threads ?? "?"} thread(s)), ${host.cpu}, load average ${host.loadAverage.join(" ")}:`,
    `  tiny-UNet step: ${fmt(u.tfjs_ms, 0, " ms")} vs ${fmt(u.torch_ms, 0, " ms")} = ${fmt(u.time_ratio)}× (target ≤ ${TARGETS.unet_time_ratio})${mark(u.time_ratio, (x) => x <= TARGETS.unet_time_ratio)}` +
      `; fastest runs ${fmt(u.time_ratio_fastest_runs)}×${perRound(u.time_ratio_per_round)}; as TF.js ops ${fmt(u.tfjs_ops_ms, 0, " ms")} = ${fmt(u.tfjs_ops_time_ratio)}×`,
    `  its peak RSS: ${fmt(u.tfjs_peak_rss_mb, 0, " MB")} vs ${fmt(u.torch_peak_rss_mb, 0, " MB")} = ${fmt(u.rss_ratio)}× (target ≤ ${TARGETS.unet_rss_ratio})${mark(u.rss_ratio, (x) => x <= TARGETS.unet_rss_ratio)}` +
      `; as TF.js ops ${fmt(u.tfjs_ops_rss_ratio)}×`,
    `  GFLOP/s as a share of torch's, medians/fastest runs (target ≥ ${TARGETS.kernel_gflops_share}):`,
    ...KERNELS.map((name) => `    ${name}: ${share(name)}`),
    `  AlignProp quickstart step: ${fmt(a.tfjs_s_per_step, 3, " s")} vs torch engine ${fmt(a.torch_s_per_step, 3, " s")} = ${fmt(a.time_ratio)}× (target ≤ ${TARGETS.alignprop_time_ratio})${mark(a.time_ratio, (x) => x <= TARGETS.alignprop_time_ratio)}`,
  ].join("\n");
}
