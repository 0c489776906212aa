/**
 * A full AlignProp optimizer step on the embedded tiny-shapes pipeline with its aesthetic reward: sampling chain,
 * backpropagation through the last step only (K = 1) or through every step (K = all, gradient checkpointing on),
 * VAE decode, reward, AdamW. Reports the median step time, samples per second and the process's peak RSS.
 */
import type { OverrideValue } from "../config/index.js";
import { runJob } from "./run-job.js";

export const ALIGNPROP_BENCH = { sample_num_steps: 20, train_batch_size: 4, sample_guidance_scale: 5 } as const;

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

export async function benchAlignPropStep(k: Truncation, repeats: number) {
  const run = await runJob(alignpropBenchConfig(k), { steps: repeats + 1 });
  const timed = run.steps.slice(1).map((s) => s.stepSeconds).sort((a, b) => a - b);
  const median = timed[timed.length >> 1]!;
  return {
    [`alignprop_step_${k}`]: {
      run: run.description,
      backprop_steps: k === "k1" ? 1 : ALIGNPROP_BENCH.sample_num_steps,
      ms: median * 1000,
      samples_per_second: ALIGNPROP_BENCH.train_batch_size / median,
      first_step_ms: run.steps[0]!.stepSeconds * 1000,
    },
  };
}
