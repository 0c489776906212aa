/**
 * The checks an AlignProp job makes on its options before training, each naming the field, its value and the rule.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { validateAlignPropOptions, type AlignPropOptions } from "../../src/algorithms/alignprop-options.js";
import { DEFAULT_RUN_CONFIG } from "../../src/config/schema.js";
import { attachLora, DEFAULT_LORA_CONFIG } from "../../src/models/lora.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";
import { readUNetConfig } from "../lora/tiny-unet.js";

const lora = attachLora(new UNet2DConditionModel(SHAPE_ONLY, readUNetConfig("tiny-unet-sd15/config.json")), DEFAULT_LORA_CONFIG, { seed: 0 });
const check = (o: Partial<AlignPropOptions>) => () => validateAlignPropOptions({ ...DEFAULT_RUN_CONFIG, ...o }, lora);

test("TRL's defaults pass", () => {
  assert.doesNotThrow(check({}));
});

for (const [what, options, message] of [
  ["a negative min", { truncated_rand_backprop_minmax: [-1, 10] }, /truncated_rand_backprop_minmax=\[-1,10\]: min=-1 is negative; use 0 ≤ min ≤ max ≤ 50/],
  ["max above sample_num_steps", { truncated_rand_backprop_minmax: [0, 60] }, /truncated_rand_backprop_minmax=\[0,60\]: max=60 exceeds sample_num_steps=50/],
  ["min above max", { truncated_rand_backprop_minmax: [30, 20] }, /truncated_rand_backprop_minmax=\[30,20\]: min=30 exceeds max=20/],
  ["a fixed cut at sample_num_steps", { truncated_backprop_timestep: 50 }, /truncated_backprop_timestep=50 must be an integer in \[0, 49\] \(below sample_num_steps=50\)/],
  ["a zero batch", { train_batch_size: 0 }, /train_batch_size=0 must be a positive integer/],
  ["zero accumulation steps", { train_gradient_accumulation_steps: 0 }, /train_gradient_accumulation_steps=0 must be a positive integer/],
  ["a fractional step count", { sample_num_steps: 2.5, truncated_backprop_timestep: 1, truncated_rand_backprop_minmax: [0, 2] }, /sample_num_steps=2.5 must be a positive integer/],
  ["eta above 1", { sample_eta: 1.5 }, /sample_eta=1.5 must be in \[0, 1\]/],
  ["beta2 of 1", { train_adam_beta2: 1 }, /train_adam_beta2=1 must be in \[0, 1\)/],
  ["a zero clip norm", { train_max_grad_norm: 0 }, /train_max_grad_norm=0 must be > 0/],
  ["the target loss without a target", { loss: "target" }, /reward_target is missing while loss="target"/],
] as const) {
  test(`${what} is refused with the field and value named`, () => {
    assert.throws(check(options as Partial<AlignPropOptions>), message);
  });
}

test("every problem is reported at once", () => {
  assert.throws(check({ train_batch_size: 0, sample_eta: -1 }), (e: Error) => /train_batch_size=0/.test(e.message) && /sample_eta=-1/.test(e.message));
});
