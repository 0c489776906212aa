/**
 * DDPO's configuration: TRL's DDPOConfig names and defaults in the run config, and DDPO's rules (TRL's _config_check
 * among them), checked once by the config schema when algorithm is "ddpo".
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, DEFAULT_RUN_CONFIG, loadRunConfig, RunConfigSchema, trainedTimesteps } from "../../src/config/index.js";

test("the run config holds TRL's DDPOConfig fields with TRL's defaults, and algorithm defaults to alignprop", () => {
  const keys = [
    "sample_batch_size",
    "sample_num_batches_per_epoch",
    "train_num_inner_epochs",
    "train_cfg",
    "train_adv_clip_max",
    "train_clip_range",
    "train_timestep_fraction",
    "per_prompt_stat_tracking",
    "per_prompt_stat_tracking_buffer_size",
    "per_prompt_stat_tracking_min_count",
  ] as const;
  assert.deepEqual(Object.fromEntries(keys.map((k) => [k, DEFAULT_RUN_CONFIG[k]])), {
    sample_batch_size: 1,
    sample_num_batches_per_epoch: 2,
    train_num_inner_epochs: 1,
    train_cfg: true,
    train_adv_clip_max: 5,
    train_clip_range: 1e-4,
    train_timestep_fraction: 1,
    per_prompt_stat_tracking: false,
    per_prompt_stat_tracking_buffer_size: 16,
    per_prompt_stat_tracking_min_count: 16,
  });
  assert.equal(DEFAULT_RUN_CONFIG.algorithm, "alignprop");
  assert.equal(RunConfigSchema.parse({ algorithm: "ddpo" }).algorithm, "ddpo");
  assert.equal(RunConfigSchema.safeParse({ algorithm: "ppo" }).success, false);
  assert.equal(RunConfigSchema.safeParse({ train_timestep_fraction: 0 }).success, false);
});

/** loadRunConfig's message for a DDPO config of these flag values over TINY_DDPO's, or "" when it accepts them. */
function problems(overrides: Record<string, string | number>): string {
  const tiny = { sample_num_steps: 3, sample_batch_size: 2, train_batch_size: 2 };
  const flags = Object.fromEntries(Object.entries({ algorithm: "ddpo", ...tiny, ...overrides }).map(([k, v]) => [k, String(v)]));
  try {
    loadRunConfig({ overrides: flags });
    return "";
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
}

test("the tiny options pass", () => {
  assert.equal(problems({}), "");
});

test("TRL's batch-size rules: sample_batch_size a multiple of train_batch_size, an epoch a whole number of updates", () => {
  assert.match(problems({ sample_batch_size: 2, train_batch_size: 4 }), /sample_batch_size: 2 is smaller than train_batch_size=4/);
  assert.match(problems({ sample_batch_size: 3, train_batch_size: 2 }), /sample_batch_size: 3 is not a multiple of train_batch_size=2/);
  assert.match(
    problems({ sample_batch_size: 2, sample_num_batches_per_epoch: 3, train_batch_size: 2, train_gradient_accumulation_steps: 2 }),
    /train_gradient_accumulation_steps: samples per epoch \(sample_batch_size·sample_num_batches_per_epoch = 6\) is not a multiple of train_batch_size·train_gradient_accumulation_steps = 4/,
  );
});

test("a deterministic sampler (eta = 0) is refused for DDPO only: its steps have no log-probability", () => {
  assert.match(problems({ sample_eta: 0 }), /sample_eta: 0 makes every step deterministic, and DDPO needs each step's log-probability/);
  assert.doesNotThrow(() => loadRunConfig({ overrides: { sample_eta: "0" } }), "AlignProp samples with eta = 0");
});

test("kl_coeff is refused for DDPO (it is AlignProp's KL term on the kept steps), and accepted for AlignProp", () => {
  assert.match(problems({ kl_coeff: 0.1 }), /kl_coeff: 0\.1: the KL term is AlignProp's .* Use 0 with algorithm "ddpo"/);
  assert.doesNotThrow(() => loadRunConfig({ overrides: { kl_coeff: "0.1" } }));
  assert.throws(() => loadRunConfig({ overrides: { kl_coeff: "-1" } }), /kl_coeff/);
});

test("a timestep fraction that trains no timestep is refused, naming the smallest that trains one", () => {
  assert.equal(trainedTimesteps({ sample_num_steps: 50, train_timestep_fraction: 0.25 }), 12);
  assert.match(problems({ train_timestep_fraction: 0.2 }), /train_timestep_fraction: 0\.2 trains ⌊3·0\.2⌋ = 0 timesteps; raise it to at least 0\.333/);
});

test("every problem is listed at once, each with its field and value", () => {
  const message = problems({ train_clip_range: 0, train_adv_clip_max: -1, train_num_inner_epochs: 0 });
  assert.match(message, /train_num_inner_epochs: got 0/);
  assert.match(message, /train_adv_clip_max: got -1/);
  assert.match(message, /train_clip_range: got 0/);
});
