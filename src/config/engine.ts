import type { z } from "zod";

import type { RunConfig } from "./schema.js";

/** What a `reward` or `image_hook` that names a module looks like (a path, or a .js/.mjs/.cjs/.py file). */
const MODULE_PATH = /[\\/]|\.(m|c)?js$|\.py$/;

/**
 * What each engine accepts, checked here so the CLI stays the one validator. tfjs takes everything the schema does
 * (reward and image_hook modules are JavaScript). torch trains AlignProp and DDPO with the torch engine's built-in
 * rewards (python/alignprop_torch/rewards, which names them when one is unknown); it has no user reward or
 * image_hook modules yet, and no TF.js backend to pick. Its log_with goes through accelerate's trackers.
 */
export function checkEngine(config: RunConfig, ctx: z.RefinementCtx<RunConfig>): void {
  if (config.engine !== "torch") return;
  const refuse = (field: keyof RunConfig, value: unknown, why: string) =>
    ctx.addIssue({ code: "custom", path: [field], message: `${JSON.stringify(value)}: ${why}` });
  if (typeof config.reward === "string" && MODULE_PATH.test(config.reward)) {
    refuse("reward", config.reward, "the torch engine takes built-in rewards only (no reward modules yet); use a built-in or --engine tfjs");
  }
  if (config.image_hook) {
    refuse("image_hook", config.image_hook, 'the torch engine runs no image_hook modules yet; use "" or --engine tfjs');
  }
  if (config.backend !== "auto") {
    refuse("backend", config.backend, 'picks a TF.js backend; the torch engine uses CUDA when present, else the CPU: leave it "auto"');
  }
}
