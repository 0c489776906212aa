import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";

import * as tf from "@tensorflow/tfjs";

import { DDIMScheduler } from "../../src/diffusion/ddim.js";
import { DEFAULT_DDIM_CONFIG, validateDDIMConfig } from "../../src/diffusion/schedule.js";
import { Rng } from "../../src/util/rng.js";

/** Stable Diffusion v1.5's scheduler_config.json as published (a PNDM config; pipelines build DDIM from it). */
const SD15_PNDM_FILE = {
  _class_name: "PNDMScheduler",
  _diffusers_version: "0.6.0",
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  beta_start: 0.00085,
  num_train_timesteps: 1000,
  set_alpha_to_one: false,
  skip_prk_steps: true,
  steps_offset: 1,
  trained_betas: null,
  clip_sample: false,
};

const randn = (shape: number[], seed: number) => tf.tensor(new Rng(seed).normal(shape.reduce((a, b) => a * b, 1)), shape);

before(async () => {
  await tf.setBackend("cpu");
});

test("the default config is Stable Diffusion v1.5's DDIM config", () => {
  assert.deepEqual(validateDDIMConfig(SD15_PNDM_FILE), DEFAULT_DDIM_CONFIG);
  assert.deepEqual(DEFAULT_DDIM_CONFIG, {
    num_train_timesteps: 1000,
    beta_start: 0.00085,
    beta_end: 0.012,
    beta_schedule: "scaled_linear",
    clip_sample: false,
    clip_sample_range: 1,
    set_alpha_to_one: false,
    steps_offset: 1,
    prediction_type: "epsilon",
    thresholding: false,
    timestep_spacing: "leading",
  });
  assert.ok(Object.isFrozen(DEFAULT_DDIM_CONFIG));
});

test("fifty leading steps with steps_offset 1 run 981, 961, …, 21, 1", () => {
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(50);
  assert.deepEqual(scheduler.timesteps, Array.from({ length: 50 }, (_, i) => 981 - 20 * i));
});

test("before setTimesteps the timesteps are every training step, descending, and step refuses to run", () => {
  const scheduler = new DDIMScheduler();
  assert.equal(scheduler.timesteps.length, 1000);
  assert.equal(scheduler.timesteps[0], 999);
  assert.throws(() => scheduler.step(tf.zeros([1, 2]), 981, tf.zeros([1, 2])), /call setTimesteps/);
});

test("a wrong config names every wrong field with its value", () => {
  const bad = {
    beta_schedule: "cosine",
    num_train_timesteps: 0,
    prediction_type: "noise",
    timestep_spacing: "even",
    thresholding: true,
    clip_sample: "yes",
    steps_offset: -1,
  };
  assert.throws(() => new DDIMScheduler(bad), (error: Error) => {
    for (const line of [
      'beta_schedule="cosine" is not one of linear | scaled_linear | squaredcos_cap_v2',
      "num_train_timesteps=0 must be an integer ≥ 2",
      'prediction_type="noise" is not one of epsilon | v_prediction | sample',
      'timestep_spacing="even" is not one of leading | trailing | linspace',
      "thresholding=true is not supported",
      'clip_sample="yes" must be true or false',
      "steps_offset=-1 must be an integer ≥ 0",
    ]) {
      assert.ok(error.message.includes(line), `missing "${line}" in:\n${error.message}`);
    }
    return true;
  });
  assert.throws(() => new DDIMScheduler({ beta_start: 0.02, beta_end: 0.01 }), /beta_start=0.02 must not exceed beta_end=0.01/);
  assert.throws(() => new DDIMScheduler({ trained_betas: [0.1, 0.2] }), /trained_betas is not supported/);
});

test("setTimesteps rejects step counts outside 1 … num_train_timesteps", () => {
  const scheduler = new DDIMScheduler();
  for (const n of [0, 1001, 2.5]) assert.throws(() => scheduler.setTimesteps(n), new RegExp(`num_inference_steps=${n} must be an integer in \\[1, 1000\\]`));
});

test("fromPretrained reads scheduler_config.json from a diffusers scheduler folder", async () => {
  const dir = await mkdtemp(join(tmpdir(), "ddim-"));
  try {
    await writeFile(join(dir, "scheduler_config.json"), JSON.stringify({ ...SD15_PNDM_FILE, timestep_spacing: "trailing" }));
    const scheduler = await DDIMScheduler.fromPretrained(dir);
    assert.equal(scheduler.config.timestep_spacing, "trailing");
    await assert.rejects(DDIMScheduler.fromPretrained(join(dir, "missing")), /cannot read scheduler config .*missing.scheduler_config\.json/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test("the last step past t = 0 uses ᾱ_0, or 1 with set_alpha_to_one, so it returns x̂₀ exactly", () => {
  const scheduler = new DDIMScheduler({ set_alpha_to_one: true });
  scheduler.setTimesteps(50);
  tf.tidy(() => {
    const { prevSample, predOriginalSample } = scheduler.step(randn([1, 3], 1), 1, randn([1, 3], 2));
    assert.deepEqual(prevSample.dataSync(), predOriginalSample.dataSync());
  });
  assert.equal(new DDIMScheduler().finalAlphaCumprod, new DDIMScheduler().alphasCumprod[0]);
});

test("the step is differentiable: ∂x_{t−1}/∂ε̂ equals √(1 − ᾱ_prev − σ²) − √ᾱ_prev·√(1 − ᾱ_t)/√ᾱ_t", () => {
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(50);
  const [a, ap] = [scheduler.alphasCumprod[501]!, scheduler.alphasCumprod[481]!];
  const sigma2 = ((1 - ap) / (1 - a)) * (1 - a / ap);
  const expected = Math.sqrt(1 - ap - sigma2) - (Math.sqrt(ap) * Math.sqrt(1 - a)) / Math.sqrt(a);
  tf.tidy(() => {
    const sample = randn([2, 2, 2, 1], 3);
    const noise = randn([2, 2, 2, 1], 4);
    const grad = tf.grad((eps: tf.Tensor) => tf.sum(scheduler.step(eps, 501, sample, { eta: 1, varianceNoise: noise }).prevSample));
    for (const g of grad(randn([2, 2, 2, 1], 5)).dataSync()) assert.ok(Math.abs(g - expected) < 1e-5, `${g} vs ${expected}`);
  });
});

test("the log-prob treats x_{t−1} as data: its gradient flows through the mean only, as TRL's detach does", () => {
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(50);
  const [a, ap] = [scheduler.alphasCumprod[501]!, scheduler.alphasCumprod[481]!];
  const sigma = Math.sqrt(((1 - ap) / (1 - a)) * (1 - a / ap));
  const dMeanDEps = Math.sqrt(1 - ap - sigma * sigma) - (Math.sqrt(ap) * Math.sqrt(1 - a)) / Math.sqrt(a);
  tf.tidy(() => {
    const sample = randn([1, 4], 6);
    const z = randn([1, 4], 7);
    const grad = tf.grad((eps: tf.Tensor) => scheduler.step(eps, 501, sample, { eta: 1, varianceNoise: z, logProb: true }).logProb!.sum());
    const g = grad(randn([1, 4], 8)).dataSync();
    // log p = mean(−(x − μ)²/(2σ²)) + const, x = μ + σz held fixed ⇒ ∂/∂ε̂ = (x − μ)/σ² · ∂μ/∂ε̂ / 4 = z·∂μ/∂ε̂/(4σ)
    z.dataSync().forEach((zi, i) => assert.ok(Math.abs(g[i]! - (zi * dMeanDEps) / (4 * sigma)) < 1e-4, `${g[i]}`));
  });
});

test("a generator makes the noise reproducible, and eta 0 adds none", () => {
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(10);
  tf.tidy(() => {
    const [eps, sample] = [randn([2, 3], 9), randn([2, 3], 10)];
    const draw = (seed: number) => scheduler.step(eps, 901, sample, { eta: 1, generator: new Rng(seed) }).prevSample.dataSync();
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    const deterministic = () => scheduler.step(eps, 901, sample, { eta: 0 }).prevSample.dataSync();
    assert.deepEqual(deterministic(), deterministic());
    const noise = tf.tensor(new Rng(42).normal(6), [2, 3]);
    assert.deepEqual(scheduler.step(eps, 901, sample, { eta: 1, varianceNoise: noise }).prevSample.dataSync(), draw(42));
  });
});

test("the step checks its options: one noise source, matching shapes, eta in [0, 1], σ > 0 for a log-prob", () => {
  const scheduler = new DDIMScheduler();
  scheduler.setTimesteps(50);
  tf.tidy(() => {
    const x = tf.zeros([2, 3]);
    assert.throws(() => scheduler.step(x, 981, x, { eta: 1, generator: new Rng(1), varianceNoise: x }), /generator and varianceNoise exclude each other/);
    assert.throws(() => scheduler.step(x, 981, x, { eta: 1, generator: new Rng(1), prevSample: x }), /generator and prevSample exclude each other/);
    assert.throws(() => scheduler.step(tf.zeros([2, 4]), 981, x), /modelOutput has shape \[2,4\] but sample has shape \[2,3\]/);
    assert.throws(() => scheduler.step(x, 981, x, { eta: 1.5 }), /eta=1.5 must be in \[0, 1\]/);
    assert.throws(() => scheduler.step(x, 981, x, { prevSample: x }), /log-prob needs σ_t > 0, but eta=0/);
    assert.throws(() => scheduler.step(x, 1000, x), /timestep=1000 must be an integer in \[0, 999\]/);
    assert.throws(() => scheduler.step(x, [981, 961, 941], x), /timesteps has 3 entries but the batch has 2/);
  });
});

test("a step leaves no tensors behind except the ones it returns", () => {
  const scheduler = new DDIMScheduler({ prediction_type: "v_prediction", clip_sample: true });
  scheduler.setTimesteps(50);
  const [eps, sample] = [randn([2, 4, 4, 3], 11), randn([2, 4, 4, 3], 12)];
  const before = tf.memory().numTensors;
  const out = scheduler.step(eps, [981, 21], sample, { eta: 1, generator: new Rng(3), logProb: true });
  assert.equal(tf.memory().numTensors, before + 3);
  assert.deepEqual(out.logProb!.shape, [2]);
  tf.dispose([out.prevSample, out.predOriginalSample, out.logProb!]);
  const noisy = scheduler.addNoise(sample, eps, 500);
  assert.equal(tf.memory().numTensors, before + 1);
  tf.dispose([noisy, eps, sample]);
});
