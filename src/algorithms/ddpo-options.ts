/**
 * What a DDPO job reads from the run config (TRL's DDPOConfig field names). The values are the validated config's:
 * RunConfigSchema's refinements hold DDPO's rules (TRL's `_config_check` among them); the job does not check again.
 */
import type { RunConfig } from "../config/index.js";
import type { JobOptions } from "./job.js";

export type DDPOOptions = JobOptions &
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
