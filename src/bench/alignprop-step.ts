/**
 * A full AlignProp optimizer step on the embedded tiny-shapes pipeline with its aesthetic reward: sampling chain,
 * backpropagation through the kept steps, VAE decode, reward, AdamW. Two measurements:
 * - TF.js alone, through the last step only (K = 1) or every step (K = all, gradient checkpointing on);
 * - both engines on the quickstart's settings (configs/quickstart.json): the TF.js job and the torch engine's job
 *   (`python -m alignprop_torch.bench_job`), each in a process of its own, side by side with their ratio.
 * Each reports the median step time after the first (warm-up) step, samples per second and peak RSS.
 */
import { join } from "node:path";
import { loadRunConfig, type OverrideValue } from "../config/index.js";
import { PACKAGE_ROOT } from "../models/embedded.js";
import { tracedGraphsActive } from "../tf/ort/traced-call.js";
import { median } from "../util/median.js";
import { runJob, type StepRecord } from "./run-job.js";
import { runTorchJob } from "./run-torch-job.js";

export const ALIGNPROP_BENCH = { sample_num_steps: 20, train_batch_size: 4, sample_guidance_scale: 5 } as const;

/** What `npm start` trains. */
export const QUICKSTART = join(PACKAGE_ROOT, "configs", "quickstart.json");

export type Truncation = "k1" | "kall";

export function alignpropBenchConfig(k: Truncation): Record<string, OverrideValue> {
  const n = ALIGNPROP_BENCH.sample_num_steps;
  return {
    model: "tiny-shapes",
    algorithm: "alignprop",
    ...ALIGNPROP_BENCH,
    truncated_backprop_rand: false,
    truncated_backprop_timestep: k === "k1" ? n - 1 : 0,
  };
}

export interface StepTiming {
  /** Median seconds per step, the first (warm-up) step left out. */
  s_per_step: number;
  samples_per_second: number;
  first_step_s: number;
  timed_steps: number;
}

export function stepTiming(steps: readonly StepRecord[]): StepTiming {
  if (steps.length < 2) throw new Error(`step timing needs a warm-up step and at least one more; the run made ${steps.length}`);
  const timed = steps.slice(1).map((s) => s.stepSeconds);
  const s_per_step = median(timed);
  const batch = steps[0]!.samples;
  return { s_per_step, samples_per_second: batch / s_per_step, first_step_s: steps[0]!.stepSeconds, timed_steps: timed.length };
}

export async function benchAlignPropStep(k: Truncation, repeats: number) {
  const run = await runJob(alignpropBenchConfig(k), { steps: repeats + 1 });
  const t = stepTiming(run.steps);
  return {
    [`alignprop_step_${k}`]: {
      run: run.description,
      backprop_steps: k === "k1" ? 1 : ALIGNPROP_BENCH.sample_num_steps,
      ms: t.s_per_step * 1000,
      samples_per_second: t.samples_per_second,
      first_step_ms: t.first_step_s * 1000,
    },
  };
}

/** The TF.js engine on the quickstart's settings (run inside a bench worker, on `backend`; model calls as traced graphs there or not). */
export async function benchQuickstartStep(repeats: number, backend: string) {
  const run = await runJob({}, { steps: repeats + 1 }, QUICKSTART);
  return { alignprop_quickstart: { engine: "tfjs", backend, traced_graphs: tracedGraphsActive(), run: run.description, ...stepTiming(run.steps) } };
}

/** The torch engine on the quickstart's settings, in the project's Python with `threads` intra-op threads. */
export async function benchTorchQuickstartStep(repeats: number, threads: number, timeoutSeconds: number) {
  const { config } = loadRunConfig({ overrides: {}, file: QUICKSTART });
  const run = await runTorchJob(config, { steps: repeats + 1, threads, timeoutSeconds });
  return { engine: "torch", ...run.torch, run: run.description, ...stepTiming(run.steps), peak_rss_mb: run.peakRssMb };
}
