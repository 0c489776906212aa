/**
 * The run-config fields both training algorithms read (sampling, the optimiser, the seed) and their checks, the
 * same rules as the config schema, repeated because a job can be built without going through it.
 */
import type { RunConfig } from "../config/schema.js";
import type { LoraAdapters } from "../models/lora.js";

export type SharedJobOptions = Pick<
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
>;

/** Adds to `issues` what is wrong with the shared fields (sample_eta's range differs per algorithm: not checked). */
export function checkSharedJobOptions(o: SharedJobOptions, lora: LoraAdapters, issues: string[]): void {
  for (const key of ["sample_num_steps", "train_batch_size", "train_gradient_accumulation_steps"] as const) {
    if (!Number.isInteger(o[key]) || o[key] < 1) issues.push(`${key}=${o[key]} must be a positive integer`);
  }
  if (!Number.isInteger(o.seed) || o.seed < 0) issues.push(`seed=${o.seed} must be a non-negative integer`);
  if (!(o.sample_guidance_scale >= 0)) issues.push(`sample_guidance_scale=${o.sample_guidance_scale} must be ≥ 0`);
  for (const key of ["train_learning_rate", "train_adam_epsilon", "train_max_grad_norm"] as const) {
    if (!(o[key] > 0)) issues.push(`${key}=${o[key]} must be > 0`);
  }
  for (const key of ["train_adam_beta1", "train_adam_beta2"] as const) {
    if (!(o[key] >= 0 && o[key] < 1)) issues.push(`${key}=${o[key]} must be in [0, 1)`);
  }
  if (!(o.train_adam_weight_decay >= 0)) issues.push(`train_adam_weight_decay=${o.train_adam_weight_decay} must be ≥ 0`);
  if (lora.layers.size === 0) issues.push("the UNet has no LoRA adapters; attach them (attachLora) before training");
}
