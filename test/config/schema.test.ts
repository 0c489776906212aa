import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_RUN_CONFIG, RunConfigSchema } from "../../src/config/index.js";

/** TRL's AlignPropConfig defaults (trl/trainer/alignprop_config.py), where TRL's None is our "". */
const TRL_DEFAULTS = {
  run_name: "",
  seed: 0,
  log_with: "",
  log_image_freq: 1,
  tracker_kwargs: {},
  accelerator_kwargs: {},
  project_kwargs: {},
  tracker_project_name: "trl",
  logdir: "logs",
  num_epochs: 100,
  save_freq: 1,
  num_checkpoint_limit: 5,
  mixed_precision: "fp16",
  allow_tf32: true,
  resume_from: "",
  sample_num_steps: 50,
  sample_eta: 1.0,
  sample_guidance_scale: 5.0,
  train_batch_size: 1,
  train_use_8bit_adam: false,
  train_learning_rate: 1e-3,
  train_adam_beta1: 0.9,
  train_adam_beta2: 0.999,
  train_adam_weight_decay: 1e-4,
  train_adam_epsilon: 1e-8,
  train_gradient_accumulation_steps: 1,
  train_max_grad_norm: 1.0,
  negative_prompts: "",
  truncated_backprop_rand: true,
  truncated_backprop_timestep: 49,
  truncated_rand_backprop_minmax: [0, 50],
  push_to_hub: false,
};

describe("RunConfigSchema", () => {
  it("gives every TRL field TRL's default", () => {
    const trlPart = Object.fromEntries(
      Object.keys(TRL_DEFAULTS).map((key) => [key, Reflect.get(DEFAULT_RUN_CONFIG, key)]),
    );
    assert.deepEqual(trlPart, TRL_DEFAULTS);
  });

  it("gives alignprop's own fields their documented defaults", () => {
    const { exp_name, model, reward, prompts, backend, runs_dir, truncated_backprop_per_step } = DEFAULT_RUN_CONFIG;
    assert.deepEqual(
      { exp_name, model, reward, prompts, backend, runs_dir, truncated_backprop_per_step },
      {
        exp_name: "alignprop",
        model: "tiny-shapes",
        reward: "",
        prompts: "",
        backend: "auto",
        runs_dir: "runs",
        truncated_backprop_per_step: false,
      },
    );
    const { gradient_checkpointing, loss, reward_target, lora_rank, lora_alpha, lora_target_modules } =
      DEFAULT_RUN_CONFIG;
    assert.deepEqual(
      { gradient_checkpointing, loss, reward_target, lora_rank, lora_alpha, lora_target_modules },
      {
        gradient_checkpointing: true,
        loss: "negative_reward",
        reward_target: undefined,
        lora_rank: 4,
        lora_alpha: 4,
        lora_target_modules: ["to_q", "to_k", "to_v", "to_out.0"],
      },
    );
  });

  it("turns an empty object into the defaults", () => {
    assert.deepEqual(RunConfigSchema.parse({}), DEFAULT_RUN_CONFIG);
  });

  it("rejects keys it does not know", () => {
    const result = RunConfigSchema.safeParse({ num_epoch: 3 });
    assert.equal(result.success, false);
    assert.equal(result.error?.issues[0]?.code, "unrecognized_keys");
  });

  it('accepts an empty log_with and "tensorboard" ("wandb" needs the torch engine: trl-config.test.ts)', () => {
    for (const log_with of ["", "tensorboard"]) {
      assert.equal(RunConfigSchema.parse({ log_with }).log_with, log_with);
    }
  });

  it("accepts the random truncation range touching both ends of the chain", () => {
    const config = RunConfigSchema.parse({
      sample_num_steps: 10,
      truncated_backprop_timestep: 9,
      truncated_rand_backprop_minmax: [0, 10],
    });
    assert.deepEqual(config.truncated_rand_backprop_minmax, [0, 10]);
  });

  it("accepts the target loss when a reward target is given", () => {
    assert.equal(RunConfigSchema.parse({ loss: "target", reward_target: 0.8 }).reward_target, 0.8);
  });

  it("runs the cross-field checks even when a single field is not an integer", () => {
    const result = RunConfigSchema.safeParse({ train_batch_size: 1.5, truncated_backprop_timestep: 50 });
    const fields = result.error?.issues.map((issue) => issue.path[0]);
    assert.deepEqual(fields, ["train_batch_size", "truncated_backprop_timestep"]);
  });
});
