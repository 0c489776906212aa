import type { z } from "zod";

import { isMonitorName, isMonitorValue, MONITOR_NAMES, MONITOR_VALUES } from "../eval/monitor-names.js";
import { checkEngine } from "./engine.js";
import { checkProcesses } from "./processes.js";
import type { RunConfig } from "./schema.js";

/** DDPO: timesteps of each trajectory that train, TRL's `int(sample_num_steps * train_timestep_fraction)`. */
export const trainedTimesteps = (c: Pick<RunConfig, "sample_num_steps" | "train_timestep_fraction">): number =>
  Math.floor(c.sample_num_steps * c.train_timestep_fraction);

/**
 * Checks that relate fields to each other. Zod runs this even when single fields failed (so every problem is
 * reported at once), which is why each check first makes sure the values it compares are well-typed.
 */
export function checkRunConfig(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  checkEngine(config, ctx);
  checkProcesses(config, ctx);
  if (config.log_with === "wandb" && config.engine !== "torch") {
    ctx.addIssue({
      code: "custom",
      path: ["log_with"],
      message:
        `"wandb" needs --engine torch (which logs through accelerate's trackers): the ${config.engine} engine has no wandb client; ` +
        'or use "tensorboard", which both engines write under logdir',
    });
  }

  checkEval(config, ctx);

  const steps = config.sample_num_steps;
  if (!Number.isInteger(steps) || steps < 1) return;

  const timestep = config.truncated_backprop_timestep;
  if (Number.isInteger(timestep) && timestep >= steps) {
    ctx.addIssue({
      code: "custom",
      path: ["truncated_backprop_timestep"],
      message: `${timestep} is not below sample_num_steps=${steps}; use an integer in [0, ${steps - 1}]`,
    });
  }

  const minmaxProblem = describeMinmaxProblem(config.truncated_rand_backprop_minmax, steps);
  if (minmaxProblem !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["truncated_rand_backprop_minmax"],
      message: `${minmaxProblem}; use [min, max] with 0 ≤ min ≤ max ≤ ${steps}`,
    });
  }

  if (config.loss === "target" && config.reward_target === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["reward_target"],
      message: 'missing while loss="target"; set reward_target to the reward value to aim for, or pick another loss',
    });
  }

  if (config.algorithm === "ddpo") checkDdpo(config, ctx);
}

/** DDPO's rules (TRL's DDPOConfig `_config_check` among them); each guards its own inputs like the checks above. */
function checkDdpo(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  const issue = (field: keyof RunConfig, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  if (config.kl_coeff > 0) {
    issue("kl_coeff", `${config.kl_coeff}: the KL term is AlignProp's (it needs the kept steps' gradient); DDPO's updates are bounded by train_clip_range. Use 0 with algorithm "ddpo"`);
  }
  const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;
  const steps = config.sample_num_steps;
  if (config.sample_eta === 0) {
    issue("sample_eta", "0 makes every step deterministic, and DDPO needs each step's log-probability; use a value in (0, 1]");
  }
  const fraction = config.train_timestep_fraction;
  if (fraction > 0 && fraction <= 1 && trainedTimesteps(config) < 1) {
    issue(
      "train_timestep_fraction",
      `${fraction} trains ⌊${steps}·${fraction}⌋ = 0 timesteps; raise it to at least ${1 / steps}`,
    );
  }
  const { sample_batch_size: sb, train_batch_size: tb, train_gradient_accumulation_steps: k, sample_num_batches_per_epoch: nb } = config;
  if (!isPositiveInt(sb) || !isPositiveInt(tb) || !isPositiveInt(k) || !isPositiveInt(nb)) return;
  // TRL's _config_check: sampled batches split into whole training batches, and an epoch into whole optimizer steps.
  if (sb < tb) issue("sample_batch_size", `${sb} is smaller than train_batch_size=${tb}; it must be a multiple of it`);
  else if (sb % tb !== 0) issue("sample_batch_size", `${sb} is not a multiple of train_batch_size=${tb}`);
  else if ((sb * nb) % (tb * k) !== 0) {
    issue(
      "train_gradient_accumulation_steps",
      `samples per epoch (sample_batch_size·sample_num_batches_per_epoch = ${sb * nb}) is not a multiple of ` +
        `train_batch_size·train_gradient_accumulation_steps = ${tb * k}`,
    );
  }
}

/** The eval set's monitors and the best-checkpoint rule name things that exist, and a best needs evaluations. */
function checkEval(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  const issue = (field: keyof RunConfig, message: string) => ctx.addIssue({ code: "custom", path: [field], message });
  if (Array.isArray(config.eval_monitors)) {
    for (const name of config.eval_monitors.filter((m) => typeof m === "string" && !isMonitorName(m))) {
      issue("eval_monitors", `${JSON.stringify(name)} is not a monitor; use some of ${MONITOR_NAMES.join(", ")}`);
    }
  }
  if (typeof config.best_metric === "string" && config.best_metric) {
    if (!isMonitorValue(config.best_metric)) {
      issue("best_metric", `${JSON.stringify(config.best_metric)} is not a monitor value; use one of ${Object.keys(MONITOR_VALUES).join(", ")}, or "" for none`);
    }
    if (config.eval_freq === 0) issue("best_metric", `${JSON.stringify(config.best_metric)} needs evaluations, but eval_freq=0 turns them off`);
  } else if (typeof config.best_min_fidelity === "number") {
    issue("best_min_fidelity", `${config.best_min_fidelity} is read only with best_metric; set best_metric (e.g. "reward") or leave it unset`);
  }
}

function describeMinmaxProblem(minmax: readonly [number, number], steps: number): string | undefined {
  if (!Array.isArray(minmax)) return undefined;
  const [min, max] = minmax;
  if (!Number.isInteger(min) || !Number.isInteger(max)) return undefined;
  const shown = `[${min},${max}]`;
  if (min < 0) return `${shown}: min=${min} is negative`;
  if (max > steps) return `${shown}: max=${max} exceeds sample_num_steps=${steps}`;
  if (min > max) return `${shown}: min=${min} exceeds max=${max}`;
  return undefined;
}
