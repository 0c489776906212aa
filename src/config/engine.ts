import type { z } from "zod";

import { moduleEngineProblem } from "./module-spec.js";
import type { RunConfig } from "./schema.js";

/**
 * What each engine accepts, checked here so the CLI stays the one validator. reward and image_hook modules are
 * JavaScript on tfjs and Python on torch (./module-spec.ts). tfjs takes everything else the schema does. torch
 * trains AlignProp and DDPO with its built-in rewards (python/alignprop_torch/rewards, which names them when one is
 * unknown) or a Python reward module; it has no TF.js backend to pick. Its log_with goes through accelerate's
 * trackers.
 */
export function checkEngine(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  for (const field of ["reward", "image_hook"] as const) {
    const problem = moduleEngineProblem(config[field], config.engine, field === "image_hook");
    if (problem) ctx.addIssue({ code: "custom", path: [field], message: problem });
  }
  if (config.engine !== "torch") return;
  const refuse = (field: keyof RunConfig, value: unknown, why: string) =>
    ctx.addIssue({ code: "custom", path: [field], message: `${JSON.stringify(value)}: ${why}` });
  if (config.backend !== "auto") {
    refuse("backend", config.backend, 'picks a TF.js backend; the torch engine uses CUDA when present, else the CPU: leave it "auto"');
  }
}
