/**
 * What an AlignProp job reads from the run config (TRL's field names), and the checks it makes before training:
 * the same rules as the config schema, repeated here because a job can be built without going through it.
 */
import type { RunConfig } from "../config/schema.js";
import type { LoraAdapters } from "../models/lora.js";
import type { Truncation } from "../diffusion/differentiable-sampler.js";

export type AlignPropOptions = Pick<
  RunConfig,
  | "seed"
  | "sample_num_steps"
  | "sample_eta"
  | "sample_guidance_scale"
  | "negative_prompts"
  | "train_batch_size"
  | "train_gradient_accumulation_steps"
  | "train_learning_rate"
  | "train_adam_beta1"
  | "train_adam_beta2"
  | "train_adam_weight_decay"
  | "train_adam_epsilon"
  | "train_max_grad_norm"
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
  const positiveInts = ["sample_num_steps", "train_batch_size", "train_gradient_accumulation_steps"] as const;
  for (const key of positiveInts) if (!isInt(o[key]) || o[key] < 1) issues.push(`${key}=${o[key]} must be a positive integer`);
  if (!isInt(o.seed) || o.seed < 0) issues.push(`seed=${o.seed} must be a non-negative integer`);
  if (!(o.sample_eta >= 0 && o.sample_eta <= 1)) issues.push(`sample_eta=${o.sample_eta} must be in [0, 1]`);
  if (!(o.sample_guidance_scale >= 0)) issues.push(`sample_guidance_scale=${o.sample_guidance_scale} must be ≥ 0`);
  if (!(o.train_learning_rate > 0)) issues.push(`train_learning_rate=${o.train_learning_rate} must be > 0`);
  for (const key of ["train_adam_beta1", "train_adam_beta2"] as const) {
    if (!(o[key] >= 0 && o[key] < 1)) issues.push(`${key}=${o[key]} must be in [0, 1)`);
  }
  if (!(o.train_adam_epsilon > 0)) issues.push(`train_adam_epsilon=${o.train_adam_epsilon} must be > 0`);
  if (!(o.train_adam_weight_decay >= 0)) issues.push(`train_adam_weight_decay=${o.train_adam_weight_decay} must be ≥ 0`);
  if (!(o.train_max_grad_norm > 0)) issues.push(`train_max_grad_norm=${o.train_max_grad_norm} must be > 0`);

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
  if (lora.layers.size === 0) issues.push("the UNet has no LoRA adapters; attach them (attachLora) before training");
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
