import type { z } from "zod";

import { checkEngine } from "./engine.js";
import type { RunConfig } from "./schema.js";

/**
 * Checks that relate fields to each other. Zod runs this even when single fields failed (so every problem is
 * reported at once), which is why each check first makes sure the values it compares are well-typed.
 */
export function checkRunConfig(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  checkEngine(config, ctx);
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
