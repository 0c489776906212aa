/**
 * The DDPO job on a tiny random pipeline (wasm backend, deterministic): its epoch structure follows TRL's (samples,
 * timesteps, minibatches, accumulation), its recomputed log-probs match the sampled ones until the weights move, it
 * holds no tensors between epochs, resumes bit for bit (per-prompt statistics included), and trains on a reward
 * without a gradient that AlignProp refuses.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { AlignPropJob } from "../../src/algorithms/alignprop.js";
import { DDPOJob } from "../../src/algorithms/ddpo.js";
import { DDIMScheduler } from "../../src/diffusion/ddim.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { brightness } from "../../src/rewards/builtin.js";
import { resolveReward } from "../../src/rewards/registry.js";
import { disposeComponents, loraValues, shapePrompts, TINY_OPTIONS, tinyComponents } from "../alignprop/tiny-pipeline.js";
import { TINY_DDPO, tinyDdpo } from "./tiny-ddpo.js";

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend starts");
  await tf.ready();
});

test("until the first update, the recomputed log-probs equal the sampled ones: no ratio leaves 1 ± 1e-4", () => {
  // 4 samples, minibatches of 2, 2 accumulated: the epoch's 2 × 3 terms make one update, all at the sampling weights.
  const { job, release } = tinyDdpo({ sample_num_batches_per_epoch: 2, train_gradient_accumulation_steps: 2 });
  const result = job.step({ keepImages: false });
  release();
  assert.equal(result.gradNorms.length, 1);
  assert.equal(result.scalars.clip_fraction, 0);
  assert.ok(result.scalars.approx_kl < 1e-10, `approx KL ${result.scalars.approx_kl}`);
  // With ratio 1, the loss is −mean(A) over the terms, and batch advantages have mean 0.
  assert.ok(Math.abs(result.loss) < 1e-6, `loss ${result.loss}`);
});

test("an epoch makes one update per train_batch_size × accumulation samples, per inner epoch; the clip range then bites", () => {
  const { job, release } = tinyDdpo({ sample_num_batches_per_epoch: 2, train_num_inner_epochs: 2, train_learning_rate: 1e-2 });
  const result = job.step({ keepImages: false });
  release();
  // 4 samples / (2 × 1) × 2 inner epochs
  assert.equal(result.gradNorms.length, 4);
  assert.ok(result.gradNorms.every((g) => g > 0 && Number.isFinite(g)));
  assert.equal(result.gradNorm, result.gradNorms.reduce((a, b) => a + b) / 4);
  assert.ok(result.scalars.clip_fraction > 0, "after the first update some ratios leave 1 ± 1e-4");
  assert.equal(result.rewards.length, 4);
  assert.equal(result.advantages.length, 4);
});

/** For each UNet call under the gradient tape: its batch and timesteps. */
function tapedCalls(options: Parameters<typeof tinyDdpo>[0]) {
  const { job, components, release } = tinyDdpo(options);
  const calls: { batch: number; timesteps: number[] }[] = [];
  const forward = components.unet.forward.bind(components.unet);
  components.unet.forward = (sample, timestep, context) => {
    if (tf.engine().isTapeOn()) calls.push({ batch: sample.shape[0], timesteps: [...(timestep as tf.Tensor).dataSync()] });
    return forward(sample, timestep, context);
  };
  job.step({ keepImages: false });
  release();
  return calls;
}

test("training runs ⌊sample_num_steps·train_timestep_fraction⌋ timesteps per minibatch, drawn per sample, with guidance", () => {
  const calls = tapedCalls({ sample_num_batches_per_epoch: 2, train_timestep_fraction: 0.67 });
  // 4 samples in minibatches of 2: 2 minibatches × ⌊3·0.67⌋ = 2 timesteps; each call runs [negative; prompt] (2 × 2 rows).
  assert.equal(calls.length, 4);
  assert.ok(calls.every((c) => c.batch === 4));
  const used = calls.map((c) => c.timesteps.slice(0, 2));
  assert.ok(used.flat().every((t) => [667, 334, 1].includes(t)), JSON.stringify(used));
  // Per minibatch, each sample's two timesteps differ (a permutation's first two).
  for (const [first, second] of [[0, 1], [2, 3]] as const) {
    for (const row of [0, 1]) assert.notEqual(used[first]![row], used[second]![row], JSON.stringify(used));
  }
});

test("without train_cfg the log-probs are recomputed with the text-conditioned UNet alone", () => {
  const calls = tapedCalls({ train_cfg: false });
  assert.ok(calls.length > 0 && calls.every((c) => c.batch === 2), JSON.stringify(calls.map((c) => c.batch)));
});

test("the tensor count after epoch 4 equals the count after epoch 1 (per-prompt tracking, images kept)", () => {
  const { job, release } = tinyDdpo({ per_prompt_stat_tracking: true, train_num_inner_epochs: 2 });
  job.step({ keepImages: true });
  const atEpoch1 = tf.memory().numTensors;
  for (let i = 2; i <= 4; i++) job.step({ keepImages: true });
  assert.equal(tf.memory().numTensors, atEpoch1);
  release();
});

test("dispose() releases every tensor the job made", () => {
  const components = tinyComponents(1);
  const before = tf.memory().numTensors;
  const job = new DDPOJob(components, TINY_DDPO, brightness, shapePrompts);
  job.step({ keepImages: true });
  job.dispose();
  assert.equal(tf.memory().numTensors, before);
  disposeComponents(components);
});

const RESUMABLE = {
  seed: 7,
  sample_num_batches_per_epoch: 2,
  train_num_inner_epochs: 2,
  train_timestep_fraction: 0.67,
  per_prompt_stat_tracking: true,
  per_prompt_stat_tracking_min_count: 2,
  train_learning_rate: 1e-2,
};

/** What an epoch yields that a resume must reproduce. */
const summary = (r: ReturnType<DDPOJob["step"]>) => ({ loss: r.loss, rewards: r.rewards, advantages: r.advantages, gradNorms: r.gradNorms });

test("a job restored from a checkpoint taken after epoch 2 continues bit for bit like the uninterrupted run", async () => {
  const first = tinyDdpo(RESUMABLE);
  first.job.step({ keepImages: false });
  first.job.step({ keepImages: false });
  const saved = await first.job.checkpointState();
  // Through the file format, as the trainer stores it.
  const onDisk = { tensors: decodeSafetensors(encodeSafetensors(saved.tensors)).tensors, rngState: saved.rngState };
  const uninterrupted = [summary(first.job.step({ keepImages: false })), summary(first.job.step({ keepImages: false }))];
  const weights = loraValues(first.components);
  first.release();

  const second = tinyDdpo(RESUMABLE);
  await second.job.restore(onDisk);
  const resumed = [summary(second.job.step({ keepImages: false })), summary(second.job.step({ keepImages: false }))];
  assert.deepEqual(resumed, uninterrupted);
  assert.deepEqual(loraValues(second.components), weights);
  second.release();
});

test("a checkpoint holds AlignProp's LoRA and AdamW tensors plus each prompt's reward buffer", async () => {
  const { job, components, release } = tinyDdpo(RESUMABLE);
  const result = job.step({ keepImages: true });
  const { tensors } = await job.checkpointState();
  release();
  const buffers = Object.keys(tensors).filter((k) => k.startsWith("ddpo.stat_tracker."));
  assert.ok(buffers.length > 0);
  const prompts = new Set(buffers.map((k) => k.slice("ddpo.stat_tracker.".length)));
  assert.ok([...prompts].every((p) => /^a \w+ (circle|square|triangle)$/.test(p)), [...prompts].join(", "));
  assert.equal(buffers.reduce((n, k) => n + tensors[k]!.data.length, 0), result.rewards.length, "every reward remembered once");
  assert.equal(Object.keys(tensors).length, 3 * components.lora.namedParameters().length + 1 + buffers.length);

  const untracked = tinyDdpo({ ...RESUMABLE, per_prompt_stat_tracking: false });
  await assert.rejects(untracked.job.restore({ tensors, rngState: 0 }), /holds per-prompt reward buffers .* but per_prompt_stat_tracking is off/);
  untracked.release();
});

test("keepImages returns the last sampling batch's images with their prompts, metadata and rewards", () => {
  const { job, release } = tinyDdpo({ sample_num_batches_per_epoch: 2 });
  const { rewards, images } = job.step({ keepImages: true });
  release();
  assert.ok(images);
  assert.deepEqual(images.images.map((i) => [i.width, i.height, i.rgb.length]), [[8, 8, 192], [8, 8, 192]]);
  assert.deepEqual(images.rewards, rewards.slice(2));
  assert.ok(images.prompts.every((p) => /^a \w+ (circle|square|triangle)$/.test(p)));
});

const valuesOnly = fileURLToPath(new URL("../../../test/fixtures/ddpo/brightness-values.mjs", import.meta.url));

test("a reward without a gradient (a user module reading pixel values) is refused by AlignProp and trained on by DDPO", async () => {
  const reward = await resolveReward(valuesOnly);
  assert.equal(reward.info.differentiable, false);
  const components = tinyComponents(1);
  assert.throws(() => new AlignPropJob(components, TINY_OPTIONS, reward, shapePrompts), /reward "brightness-values" is not differentiable.*--algorithm ddpo/s);
  disposeComponents(components);

  const { job, release } = tinyDdpo({ train_learning_rate: 1e-2 }, reward);
  const results = [job.step({ keepImages: false }), job.step({ keepImages: false })];
  release();
  for (const r of results) {
    assert.ok(r.rewards.every((x) => x > 0 && x < 1) && Number.isFinite(r.loss) && r.gradNorm > 0, JSON.stringify(summary(r)));
  }
});

test("a scheduler with set_alpha_to_one still trains: as in TRL, a step past t = 0 lands on ᾱ_0, so the last step keeps σ > 0", () => {
  const components = tinyComponents(1);
  components.scheduler = new DDIMScheduler({ ...components.scheduler.config, set_alpha_to_one: true });
  components.scheduler.setTimesteps(3);
  tf.tidy(() => {
    const x = tf.zeros([1, 8, 8, 4]);
    assert.throws(() => components.scheduler.step(x, 1, x, { eta: 1, logProb: true }), /log-prob needs σ_t > 0/, "the pipeline's own last step");
  });
  const job = new DDPOJob(components, TINY_DDPO, brightness, shapePrompts);
  assert.ok(Number.isFinite(job.step({ keepImages: false }).loss));
  job.dispose();
  disposeComponents(components);
});

test("training with merged adapters is refused", () => {
  const { job, components, release } = tinyDdpo();
  components.lora.merge();
  assert.throws(() => job.step({ keepImages: false }), /merged into the UNet; unmerge them before training/);
  components.lora.unmerge();
  release();
});
