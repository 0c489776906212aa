/** DDPO jobs over the AlignProp tests' tiny random pipeline, with TRL's DDPO defaults and a 3-step chain. */
import { DDPOJob } from "../../src/algorithms/ddpo.js";
import type { DDPOOptions } from "../../src/algorithms/ddpo-options.js";
import { DEFAULT_RUN_CONFIG } from "../../src/config/schema.js";
import { brightness } from "../../src/rewards/builtin.js";
import type { Reward } from "../../src/rewards/reward.js";
import { overTinyComponents, shapePrompts } from "../alignprop/tiny-pipeline.js";

/** TRL's DDPOConfig defaults (3e-4 learning rate included) with a 3-step chain and two images per batch. */
export const TINY_DDPO: DDPOOptions = {
  ...DEFAULT_RUN_CONFIG,
  seed: 3,
  sample_num_steps: 3,
  sample_batch_size: 2,
  train_batch_size: 2,
  train_learning_rate: 3e-4,
};

/** A DDPO job over fresh tiny components (seeded by `seed`), released with `release`. */
export function tinyDdpo(options: Partial<DDPOOptions> = {}, reward: Reward = brightness, seed = 1) {
  return overTinyComponents((c) => new DDPOJob(c, { ...TINY_DDPO, ...options }, reward, shapePrompts), seed);
}
