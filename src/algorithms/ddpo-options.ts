/**
 * What a DDPO job reads from the run config (TRL's DDPOConfig field names), and the checks it makes before
 * training beyond those of every job (job-options.ts), with TRL's `_config_check` relating the sampling and training
 * batch sizes.
 */
import type { RunConfig } from "../config/schema.js";
import type { LoraAdapters } from "../models/lora.js";
import { checkSharedJobOptions, type SharedJobOptions } from "./job-options.js";

export type DDPOOptions = SharedJobOptions &
  Pick<
    RunConfig,
    | "sample_batch_size"
    | "sample_num_batches_per_epoch"
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
  checkSharedJobOptions(o, lora, issues);
  const positiveInts = ["sample_batch_size", "sample_num_batches_per_epoch", "train_num_inner_epochs", "per_prompt_stat_tracking_buffer_size", "per_prompt_stat_tracking_min_count"] as const;
  for (const key of positiveInts) if (!Number.isInteger(o[key]) || o[key] < 1) issues.push(`${key}=${o[key]} must be a positive integer`);
  if (!(o.sample_eta > 0 && o.sample_eta <= 1)) {
    issues.push(`sample_eta=${o.sample_eta} must be in (0, 1]: DDPO needs each step's log-probability, which a deterministic step (eta=0) has not`);
  }
  for (const key of ["train_adv_clip_max", "train_clip_range"] as const) if (!(o[key] > 0)) issues.push(`${key}=${o[key]} must be > 0`);
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
  if (issues.length) throw new Error(`invalid DDPO options:\n  ${issues.join("\n  ")}`);
}
