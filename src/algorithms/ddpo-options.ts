/**
 * What a DDPO job reads from the run config (TRL's DDPOConfig field names), and the checks it makes before
 * training: the single-field rules of the config schema, repeated because a job can be built without it, plus
 * TRL's `_config_check` relating the sampling and training batch sizes.
 */
import type { RunConfig } from "../config/schema.js";
import type { LoraAdapters } from "../models/lora.js";

export type DDPOOptions = Pick<
  RunConfig,
  | "seed"
  | "sample_num_steps"
  | "sample_eta"
  | "sample_guidance_scale"
  | "negative_prompts"
  | "sample_batch_size"
  | "sample_num_batches_per_epoch"
  | "train_batch_size"
  | "train_gradient_accumulation_steps"
  | "train_learning_rate"
  | "train_adam_beta1"
  | "train_adam_beta2"
  | "train_adam_weight_decay"
  | "train_adam_epsilon"
  | "train_max_grad_norm"
  | "train_num_inner_epochs"
  | "train_cfg"
  | "train_adv_clip_max"
  | "train_clip_range"
  | "train_timestep_fraction"
  | "per_prompt_stat_tracking"
  | "per_prompt_stat_tracking_buffer_size"
  | "per_prompt_stat_tracking_min_count"
>;

/** Timesteps of each trajectory that train: TRL's `int(sample_num_steps * train_timestep_fraction)`. */
export const trainedTimesteps = (o: DDPOOptions): number => Math.floor(o.sample_num_steps * o.train_timestep_fraction);

/** Throws one error listing every problem, each naming the field, its value and what would be right. */
export function validateDDPOOptions(o: DDPOOptions, lora: LoraAdapters): void {
  const issues: string[] = [];
  const positiveInts = [
    "sample_num_steps",
    "sample_batch_size",
    "sample_num_batches_per_epoch",
    "train_batch_size",
    "train_gradient_accumulation_steps",
    "train_num_inner_epochs",
    "per_prompt_stat_tracking_buffer_size",
    "per_prompt_stat_tracking_min_count",
  ] as const;
  for (const key of positiveInts) if (!Number.isInteger(o[key]) || o[key] < 1) issues.push(`${key}=${o[key]} must be a positive integer`);
  if (!Number.isInteger(o.seed) || o.seed < 0) issues.push(`seed=${o.seed} must be a non-negative integer`);
  if (!(o.sample_eta > 0 && o.sample_eta <= 1)) {
    issues.push(`sample_eta=${o.sample_eta} must be in (0, 1]: DDPO needs each step's log-probability, which a deterministic step (eta=0) has not`);
  }
  if (!(o.sample_guidance_scale >= 0)) issues.push(`sample_guidance_scale=${o.sample_guidance_scale} must be ≥ 0`);
  const positive = ["train_learning_rate", "train_adam_epsilon", "train_max_grad_norm", "train_adv_clip_max", "train_clip_range"] as const;
  for (const key of positive) if (!(o[key] > 0)) issues.push(`${key}=${o[key]} must be > 0`);
  for (const key of ["train_adam_beta1", "train_adam_beta2"] as const) {
    if (!(o[key] >= 0 && o[key] < 1)) issues.push(`${key}=${o[key]} must be in [0, 1)`);
  }
  if (!(o.train_adam_weight_decay >= 0)) issues.push(`train_adam_weight_decay=${o.train_adam_weight_decay} must be ≥ 0`);
  if (!(o.train_timestep_fraction > 0 && o.train_timestep_fraction <= 1)) {
    issues.push(`train_timestep_fraction=${o.train_timestep_fraction} must be in (0, 1]`);
  } else if (trainedTimesteps(o) < 1) {
    issues.push(`train_timestep_fraction=${o.train_timestep_fraction} trains ⌊${o.sample_num_steps}·${o.train_timestep_fraction}⌋ = 0 timesteps; raise it to at least ${1 / o.sample_num_steps}`);
  }

  // TRL's _config_check: sampled batches split into whole training batches, and an epoch into whole optimizer steps.
  const { sample_batch_size: sb, train_batch_size: tb, train_gradient_accumulation_steps: k } = o;
  if (sb < tb) issues.push(`sample_batch_size=${sb} is smaller than train_batch_size=${tb}; it must be a multiple of it`);
  else if (sb % tb !== 0) issues.push(`sample_batch_size=${sb} is not a multiple of train_batch_size=${tb}`);
  const perEpoch = sb * o.sample_num_batches_per_epoch;
  if (perEpoch % (tb * k) !== 0) {
    issues.push(
      `samples per epoch (sample_batch_size·sample_num_batches_per_epoch = ${perEpoch}) is not a multiple of ` +
        `train_batch_size·train_gradient_accumulation_steps = ${tb * k}`,
    );
  }
  if (lora.layers.size === 0) issues.push("the UNet has no LoRA adapters; attach them (attachLora) before training");
  if (issues.length) throw new Error(`invalid DDPO options:\n  ${issues.join("\n  ")}`);
}
