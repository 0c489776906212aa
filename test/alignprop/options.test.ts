/**
 * The rules on the run config an AlignProp job trains with: checked once, by the config schema (loadRunConfig), each
 * naming the field, its value and the rule; the job takes the validated config and does not check again.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadRunConfig } from "../../src/config/index.js";

/** loadRunConfig's message for these flag values, or "" when it accepts them. */
function problems(overrides: Record<string, string>): string {
  try {
    loadRunConfig({ overrides });
    return "";
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
}

test("TRL's defaults pass", () => {
  assert.equal(problems({}), "");
});

for (const [what, overrides, message] of [
  ["a negative min", { truncated_rand_backprop_minmax: "-1,10" }, /^truncated_rand_backprop_minmax: \[-1,10\]: min=-1 is negative; use \[min, max\] with 0 ≤ min ≤ max ≤ 50$/],
  ["max above sample_num_steps", { truncated_rand_backprop_minmax: "0,60" }, /^truncated_rand_backprop_minmax: \[0,60\]: max=60 exceeds sample_num_steps=50/],
  ["min above max", { truncated_rand_backprop_minmax: "30,20" }, /^truncated_rand_backprop_minmax: \[30,20\]: min=30 exceeds max=20/],
  ["a fixed cut at sample_num_steps", { truncated_backprop_timestep: "50" }, /^truncated_backprop_timestep: 50 is not below sample_num_steps=50; use an integer in \[0, 49\]$/],
  ["a zero batch", { train_batch_size: "0" }, /^train_batch_size: got 0; expected/],
  ["zero accumulation steps", { train_gradient_accumulation_steps: "0" }, /^train_gradient_accumulation_steps: got 0; expected/],
  ["a fractional step count", { sample_num_steps: "2.5" }, /^sample_num_steps: got 2\.5; expected/],
  ["eta above 1", { sample_eta: "1.5" }, /^sample_eta: got 1\.5; expected/],
  ["beta2 of 1", { train_adam_beta2: "1" }, /^train_adam_beta2: got 1; expected/],
  ["a zero clip norm", { train_max_grad_norm: "0" }, /^train_max_grad_norm: got 0; expected/],
  ["the target loss without a target", { loss: "target" }, /^reward_target: missing while loss="target"/],
] as const) {
  test(`${what} is refused with the field and value named`, () => {
    assert.match(problems(overrides), message);
  });
}

test("every problem is reported at once, one line a field", () => {
  assert.deepEqual(problems({ train_batch_size: "0", sample_eta: "-1" }).split("\n").map((l) => l.split(":")[0]), ["sample_eta", "train_batch_size"]);
});
