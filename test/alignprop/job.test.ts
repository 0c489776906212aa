/**
 * The AlignProp job on a tiny random pipeline, on the wasm backend (several times faster than cpu here, and
 * deterministic): it learns, it repeats bit for bit, it resumes bit for bit, it holds no tensors between steps,
 * and its kept steps follow the truncation options.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { AlignPropJob } from "../../src/algorithms/alignprop.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";
import { brightness } from "../../src/rewards/builtin.js";
import { disposeComponents, loraValues, shapePrompts, TINY_OPTIONS, tinyComponents, tinyJob } from "./tiny-pipeline.js";

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend starts");
  await tf.ready();
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("20 steps at a high learning rate raise the brightness reward and lower the loss (K = 1, η = 1)", (t) => {
  const { job, release } = tinyJob({ train_batch_size: 2, train_learning_rate: 0.1, truncated_backprop_rand: false });
  const results = Array.from({ length: 20 }, () => job.step({ keepImages: false }));
  release();
  const rewards = results.map((r) => mean(r.rewards));
  const losses = results.map((r) => r.loss);
  t.diagnostic(`mean reward of steps 1–5: ${mean(rewards.slice(0, 5)).toFixed(4)}, of steps 16–20: ${mean(rewards.slice(-5)).toFixed(4)}`);
  t.diagnostic(`rewards: ${rewards.map((r) => r.toFixed(3)).join(" ")}`);
  assert.ok(mean(rewards.slice(-5)) > mean(rewards.slice(0, 5)) + 0.02, "the reward rises");
  assert.ok(mean(losses.slice(-5)) < mean(losses.slice(0, 5)) - 0.02, "the loss falls");
  results.forEach((r, i) => assert.ok(Math.abs(r.loss + rewards[i]!) < 1e-6, "negative_reward: loss = −mean(reward)"));
  assert.ok(results.every((r) => r.rewards.length === 2 && r.lr === 0.1 && r.gradNorm > 0));
});

for (const [what, options, keepImages] of [
  ["with gradient checkpointing", { gradient_checkpointing: true }, false],
  ["without checkpointing, 2 accumulation steps, keeping images", { gradient_checkpointing: false, train_gradient_accumulation_steps: 2 }, true],
] as const) {
  test(`the tensor count after step 5 equals the count after step 1 ${what}`, () => {
    const { job, release } = tinyJob({ ...options, truncated_backprop_rand: true });
    job.step({ keepImages });
    const atStep1 = tf.memory().numTensors;
    for (let i = 2; i <= 5; i++) job.step({ keepImages });
    assert.equal(tf.memory().numTensors, atStep1);
    release();
  });
}

test("dispose() releases every tensor the job made", () => {
  const components = tinyComponents(1);
  const before = tf.memory().numTensors;
  const job = new AlignPropJob(components, TINY_OPTIONS, brightness, shapePrompts);
  job.step({ keepImages: true });
  job.step({ keepImages: false });
  job.dispose();
  assert.equal(tf.memory().numTensors, before);
  disposeComponents(components);
});

/** Losses and final LoRA weights of `steps` steps of a fresh job. */
function run(seed: number, steps: number) {
  const { job, components, release } = tinyJob({ seed, truncated_backprop_rand: true });
  const losses = Array.from({ length: steps }, () => job.step({ keepImages: false }).loss);
  const weights = loraValues(components);
  release();
  return { losses, weights };
}

test("the same seed gives bit-for-bit the same losses and weights; another seed other ones", () => {
  const a = run(5, 3);
  const b = run(5, 3);
  assert.deepEqual(b, a);
  assert.notDeepEqual(run(6, 1).losses[0], a.losses[0]);
});

test("a job restored from a checkpoint taken after step 2 continues bit for bit like the uninterrupted run", async () => {
  const options = { seed: 7, truncated_backprop_rand: true, train_gradient_accumulation_steps: 2 };
  const first = tinyJob(options);
  first.job.step({ keepImages: false });
  first.job.step({ keepImages: false });
  const saved = await first.job.checkpointState();
  // Through the file format, as the trainer stores it.
  const onDisk = { tensors: decodeSafetensors(encodeSafetensors(saved.tensors)).tensors, rngState: saved.rngState };
  const uninterrupted = [first.job.step({ keepImages: false }).loss, first.job.step({ keepImages: false }).loss];
  const weights = loraValues(first.components);
  first.release();

  const second = tinyJob(options);
  await second.job.restore(onDisk);
  const resumed = [second.job.step({ keepImages: false }).loss, second.job.step({ keepImages: false }).loss];
  assert.deepEqual(resumed, uninterrupted);
  assert.deepEqual(loraValues(second.components), weights);
  second.release();
});

test("a checkpoint holds the LoRA weights under their diffusers keys, AdamW's moments and step count", async () => {
  const { job, components, release } = tinyJob();
  job.step({ keepImages: false });
  const { tensors } = await job.checkpointState();
  const key = `unet.${components.lora.namedParameters()[0]![0]}`;
  assert.deepEqual(tensors[key]!.shape, [4, 8], "A [r, in]");
  assert.ok(tensors[`optimizer.${key}.exp_avg`] && tensors[`optimizer.${key}.exp_avg_sq`]);
  assert.deepEqual([...tensors["optimizer.step"]!.data], [1]);
  assert.equal(Object.keys(tensors).length, 3 * components.lora.namedParameters().length + 1);
  delete tensors[key];
  await assert.rejects(job.restore({ tensors, rngState: 0 }), new RegExp(`missing \\(1\\): ${key.replace(/\./g, "\\.")}`));
  release();
});

/** For each chain: the indices of the steps whose UNet call ran under the gradient tape. */
function tapedSteps(options: Record<string, unknown>, chains: number): number[][] {
  const { job, components, release } = tinyJob({ ...options, gradient_checkpointing: false });
  const log: number[][] = [];
  const forward = components.unet.forward.bind(components.unet);
  components.unet.forward = (sample, timestep, context) => {
    const i = components.scheduler.timesteps.indexOf(timestep as number);
    if (i === 0) log.push([]);
    if (tf.engine().isTapeOn()) log[log.length - 1]!.push(i);
    return forward(sample, timestep, context);
  };
  for (let i = 0; i < chains; i++) job.step({ keepImages: false });
  release();
  return log;
}

const isSuffix = (kept: number[], n: number) => kept.every((step, j) => step === n - kept.length + j);

test("fixed truncation runs exactly the steps from truncated_backprop_timestep on under the tape", () => {
  assert.deepEqual(tapedSteps({ truncated_backprop_rand: false, truncated_backprop_timestep: 1 }, 2), [[1, 2], [1, 2]]);
});

test("the random cut is drawn once per chain by default: every chain keeps a suffix, of varying length", () => {
  const chains = tapedSteps({ truncated_backprop_rand: true, truncated_rand_backprop_minmax: [0, 3] }, 6);
  assert.ok(chains.every((kept) => isSuffix(kept, 3)), `kept ${JSON.stringify(chains)}`);
  assert.ok(new Set(chains.map((k) => k.length)).size > 1, `kept ${JSON.stringify(chains)}`);
});

test("truncated_backprop_per_step redraws the cut at every step as TRL did: some chains keep a step, then not a later one", () => {
  const chains = tapedSteps({ truncated_backprop_rand: true, truncated_backprop_per_step: true, truncated_rand_backprop_minmax: [0, 3] }, 6);
  assert.ok(chains.some((kept) => !isSuffix(kept, 3)), `kept ${JSON.stringify(chains)}`);
});

test("the trl and target losses are TRL's mean(10 − r) and the paper's mean |r − target|", () => {
  for (const [loss, expected] of [
    ["trl", (r: number[]) => mean(r.map((x) => 10 - x))],
    ["target", (r: number[]) => mean(r.map((x) => Math.abs(x - 0.52)))],
  ] as const) {
    const { job, release } = tinyJob({ loss, reward_target: 0.52, train_batch_size: 2 });
    const result = job.step({ keepImages: false });
    assert.ok(Math.abs(result.loss - expected(result.rewards)) < 1e-5, `${loss}: ${result.loss} vs ${expected(result.rewards)}`);
    release();
  }
});

test("keepImages returns the last micro-batch's images with their prompts, metadata and rewards", () => {
  const { job, release } = tinyJob({ train_batch_size: 2, train_gradient_accumulation_steps: 2 });
  const { rewards, images } = job.step({ keepImages: true });
  release();
  assert.equal(rewards.length, 4, "one reward per image of every micro-batch");
  assert.ok(images);
  assert.deepEqual(images.images.map((i) => [i.width, i.height, i.rgb.length]), [[8, 8, 192], [8, 8, 192]]);
  assert.deepEqual(images.rewards, rewards.slice(2));
  assert.ok(images.prompts.every((p) => /^a \w+ (circle|square|triangle)$/.test(p)));
  assert.deepEqual(images.promptMetadata.map((m) => Object.keys(m).sort()), [["colour", "shape"], ["colour", "shape"]]);
});

test("training with merged adapters is refused", () => {
  const { job, components, release } = tinyJob();
  components.lora.merge();
  assert.throws(() => job.step({ keepImages: false }), /merged into the UNet; unmerge them before training/);
  components.lora.unmerge();
  release();
});

test("a non-differentiable reward is refused when the job is built, pointing at DDPO", () => {
  const components = tinyComponents(1);
  const counted = { ...brightness, info: { ...brightness.info, name: "pixel-count", differentiable: false } };
  assert.throws(() => new AlignPropJob(components, TINY_OPTIONS, counted, shapePrompts), /reward "pixel-count" is not differentiable.*--algorithm ddpo/s);
  disposeComponents(components);
});
