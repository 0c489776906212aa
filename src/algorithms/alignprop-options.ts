/**
 * What an AlignProp job reads from the run config (TRL's field names). The values are the validated config's
 * (RunConfigSchema and its refinements check every rule once); the job does not check them again.
 */
import type { RunConfig } from "../config/index.js";
import type { Truncation } from "../diffusion/differentiable-sampler.js";
import type { JobOptions } from "./job.js";

export type AlignPropOptions = JobOptions &
  Pick<
    RunConfig,
    | "truncated_backprop_rand"
    | "truncated_backprop_timestep"
    | "truncated_rand_backprop_minmax"
    | "truncated_backprop_per_step"
    | "gradient_checkpointing"
    | "loss"
    | "reward_target"
    | "kl_coeff"
  >;

export function truncationOf(o: AlignPropOptions): Truncation {
  return {
    rand: o.truncated_backprop_rand,
    timestep: o.truncated_backprop_timestep,
    minmax: o.truncated_rand_backprop_minmax,
    perStep: o.truncated_backprop_per_step,
  };
}
