/**
 * What an AlignProp job reads from the run config (TRL's field names), and the checks it makes before training:
 * beyond those of every job (job-options.ts).
 */
import type { RunConfig } from "../config/schema.js";
import type { LoraAdapters } from "../models/lora.js";
import type { Truncation } from "../diffusion/differentiable-sampler.js";
import { checkSharedJobOptions, type SharedJobOptions } from "./job-options.js";

export type AlignPropOptions = SharedJobOptions &
  Pick<
    RunConfig,
    | "truncated_backprop_rand"
    | "truncated_backprop_timestep"
    | "truncated_rand_backprop_minmax"
    | "truncated_backprop_per_step"
    | "gradient_checkpointing"
    | "loss"
    | "reward_target"
  >;

/** Throws one error listing every problem, each naming the field, its value and what would be right. */
export function validateAlignPropOptions(o: AlignPropOptions, lora: LoraAdapters): void {
  const issues: string[] = [];
  const isInt = (v: number) => Number.isInteger(v);
  checkSharedJobOptions(o, lora, issues);
  if (!(o.sample_eta >= 0 && o.sample_eta <= 1)) issues.push(`sample_eta=${o.sample_eta} must be in [0, 1]`);

  const n = o.sample_num_steps;
  const k = o.truncated_backprop_timestep;
  if (!isInt(k) || k < 0 || k >= n) issues.push(`truncated_backprop_timestep=${k} must be an integer in [0, ${n - 1}] (below sample_num_steps=${n})`);
  const [min, max] = o.truncated_rand_backprop_minmax;
  const shown = `truncated_rand_backprop_minmax=[${min},${max}]`;
  if (!isInt(min) || !isInt(max)) issues.push(`${shown} must hold two integers`);
  else if (min < 0) issues.push(`${shown}: min=${min} is negative; use 0 ≤ min ≤ max ≤ ${n}`);
  else if (max > n) issues.push(`${shown}: max=${max} exceeds sample_num_steps=${n}`);
  else if (min > max) issues.push(`${shown}: min=${min} exceeds max=${max}`);

  if (o.loss === "target" && o.reward_target === undefined) issues.push('reward_target is missing while loss="target"; set the reward value to aim for');
  if (issues.length) throw new Error(`invalid AlignProp options:\n  ${issues.join("\n  ")}`);
}

export function truncationOf(o: AlignPropOptions): Truncation {
  return {
    rand: o.truncated_backprop_rand,
    timestep: o.truncated_backprop_timestep,
    minmax: o.truncated_rand_backprop_minmax,
    perStep: o.truncated_backprop_per_step,
  };
}
