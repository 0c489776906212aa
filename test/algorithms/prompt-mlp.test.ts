/**
 * The stand-in training job on the TF.js wasm backend (about ten times faster than cpu here, and deterministic).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { PromptMlpJob, type PromptMlpOptions } from "../../src/algorithms/prompt-mlp.js";
import { COLOUR_NAMES, SHAPES } from "../../src/data/shape-prompts.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";

assert.ok(await tf.setBackend("wasm"), "the wasm backend starts");
await tf.ready();

const OPTIONS: PromptMlpOptions = {
  seed: 1,
  batchSize: 4,
  accumulationSteps: 1,
  learningRate: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  weightDecay: 1e-4,
  maxGradNorm: 1,
};

/** Runs `body` with a fresh job and always releases it. */
async function withJob<T>(overrides: Partial<PromptMlpOptions>, body: (job: PromptMlpJob) => T | Promise<T>): Promise<T> {
  const job = new PromptMlpJob({ ...OPTIONS, ...overrides });
  try {
    return await body(job);
  } finally {
    job.dispose();
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const WEIGHTS = ["net.0.weight", "net.0.bias", "net.2.weight", "net.2.bias"];

for (const [what, overrides, keepImages] of [
  ["without images", {}, false],
  ["keeping images", {}, true],
  ["with 2 accumulation steps", { accumulationSteps: 2 }, true],
] as const) {
  test(`the tensor count does not grow from step 2 to step 10 ${what}`, async () => {
    await withJob(overrides, (job) => {
      job.step({ keepImages });
      job.step({ keepImages });
      const atStep2 = tf.memory().numTensors;
      for (let step = 3; step <= 10; step++) job.step({ keepImages });
      assert.equal(tf.memory().numTensors, atStep2);
    });
  });
}

/** Tensors still held after a job ran `steps` steps and was disposed. */
async function leftAfterDispose(steps: number): Promise<number> {
  const before = tf.memory().numTensors;
  await withJob({}, (job) => {
    for (let i = 0; i < steps; i++) job.step({ keepImages: true });
  });
  return tf.memory().numTensors - before;
}

test("dispose() releases what training made: the optimizer slots and every step's tensors", async () => {
  assert.equal(await leftAfterDispose(3), await leftAfterDispose(0));
});

test(
  "dispose() releases every tensor the job made",

  async () => {
    assert.equal(await leftAfterDispose(0), 0);
  },
);

test("the same seed gives bit-for-bit the same losses over 5 steps, another seed different ones", async () => {
  const losses = (seed: number) =>
    withJob({ seed }, (job) => Array.from({ length: 5 }, () => job.step({ keepImages: false }).loss));
  const a = await losses(7);
  const b = await losses(7);
  const c = await losses(8);
  assert.deepEqual(a, b);
  assert.ok(a.every(Number.isFinite));
  assert.notDeepEqual(a, c);
  assert.ok(a.every((loss, i) => loss !== c[i]), "every step differs");
});

test("the loss is minus the mean reward of the step, across accumulated micro-batches too", async () => {
  for (const accumulationSteps of [1, 3]) {
    await withJob({ accumulationSteps }, (job) => {
      for (let i = 0; i < 3; i++) {
        const { loss, rewards } = job.step({ keepImages: false });
        assert.equal(rewards.length, OPTIONS.batchSize * accumulationSteps);
        assert.ok(rewards.every((r) => r >= 0 && r <= 1), "rewards are in [0, 1]");
        assert.ok(Math.abs(loss + mean(rewards)) < 1e-6, `loss ${loss}, mean reward ${mean(rewards)}`);
      }
    });
  }
});

test("the reward rises over 100 steps at learning rate 1e-2 with batch size 8", async () => {
  const rewards = await withJob({ learningRate: 1e-2, batchSize: 8 }, (job) =>
    Array.from({ length: 100 }, () => mean(job.step({ keepImages: false }).rewards)),
  );
  const first = mean(rewards.slice(0, 5));
  const last = mean(rewards.slice(-10));
  assert.ok(last > first + 0.15, `mean reward went from ${first.toFixed(3)} to ${last.toFixed(3)}`);
});

test("a step reports the learning rate and a positive, finite gradient norm", async () => {
  await withJob({ learningRate: 3e-3 }, (job) => {
    const result = job.step({ keepImages: false });
    assert.equal(result.lr, 3e-3);
    assert.ok(result.gradNorm > 0 && Number.isFinite(result.gradNorm), `gradNorm ${result.gradNorm}`);
  });
});

test("with maxGradNorm 0 and no weight decay a step leaves the weights unchanged", async () => {
  await withJob({ maxGradNorm: 0, weightDecay: 0, learningRate: 0.1 }, async (job) => {
    const before = (await job.checkpointState()).tensors;
    const result = job.step({ keepImages: false });
    assert.ok(result.gradNorm > 0, "the norm is measured before clipping");
    const after = (await job.checkpointState()).tensors;
    for (const name of WEIGHTS) assert.deepEqual(after[name]!.data, before[name]!.data, name);
  });
});

test("weight decay is decoupled: with the gradient clipped away each weight shrinks by lr × weightDecay", async () => {
  const lr = 0.1;
  const weightDecay = 0.5;
  await withJob({ maxGradNorm: 0, weightDecay, learningRate: lr }, async (job) => {
    const before = (await job.checkpointState()).tensors;
    job.step({ keepImages: false });
    const after = (await job.checkpointState()).tensors;
    for (const name of ["net.0.weight", "net.2.weight"]) {
      const w0 = before[name]!.data;
      const w1 = after[name]!.data;
      for (let i = 0; i < w0.length; i += 97) {
        assert.ok(Math.abs(w1[i]! - w0[i]! * (1 - lr * weightDecay)) <= 1e-6 * Math.abs(w0[i]!) + 1e-12, `${name}[${i}]`);
      }
    }
  });
});

test("checkpointState() returns the weights and both Adam slots for each, and leaks no tensor", async () => {
  await withJob({}, async (job) => {
    for (let i = 0; i < 3; i++) job.step({ keepImages: false });
    const before = tf.memory().numTensors;
    const { tensors, rngState } = await job.checkpointState();
    assert.equal(tf.memory().numTensors, before);

    const slots = WEIGHTS.flatMap((w) => [`optimizer.${w}/m`, `optimizer.${w}/v`]);
    assert.deepEqual(Object.keys(tensors).sort(), [...WEIGHTS, ...slots, "optimizer.iter"].sort());
    const hidden = 128;
    const inputs = COLOUR_NAMES.length + SHAPES.length + 8;
    const shapes: Record<string, number[]> = {
      "net.0.weight": [inputs, hidden],
      "net.0.bias": [hidden],
      "net.2.weight": [hidden, 32 * 32 * 3],
      "net.2.bias": [32 * 32 * 3],
    };
    for (const name of WEIGHTS) {
      for (const key of [name, `optimizer.${name}/m`, `optimizer.${name}/v`]) {
        assert.deepEqual(tensors[key]!.shape, shapes[name], key);
        assert.equal(tensors[key]!.data.length, shapes[name]!.reduce((a, b) => a * b, 1), key);
      }
    }
    assert.ok(tensors["optimizer.net.2.weight/v"]!.data.some((x) => x > 0), "the second moment has been updated");
    assert.ok(Number.isInteger(rngState) && rngState >= 0);
  });
});

test(
  "a checkpoint's optimizer.iter reads back from safetensors as the number of steps taken",

  async () => {
    await withJob({}, async (job) => {
      for (let i = 0; i < 3; i++) job.step({ keepImages: false });
      const { tensors } = await job.checkpointState();
      assert.ok(tensors["optimizer.iter"]!.data instanceof Float32Array, `data is ${tensors["optimizer.iter"]!.data.constructor.name}`);
      const back = decodeSafetensors(encodeSafetensors(tensors)).tensors;
      assert.equal(back["optimizer.iter"]!.data[0], 3);
    });
  },
);

test("the same checkpoint state comes out twice in a row: reading it changes nothing", async () => {
  await withJob({}, async (job) => {
    job.step({ keepImages: false });
    const a = await job.checkpointState();
    const b = await job.checkpointState();
    assert.deepEqual(a, b);
  });
});

test("a step asked to keep its images returns batchSize 32x32 images with their prompts and rewards", async () => {
  await withJob({ batchSize: 3, accumulationSteps: 2 }, (job) => {
    const result = job.step({ keepImages: true });
    const batch = result.images;
    assert.ok(batch);
    assert.equal(batch.images.length, 3);
    for (const image of batch.images) {
      assert.equal(image.width, 32);
      assert.equal(image.height, 32);
      assert.equal(image.rgb.length, 32 * 32 * 3);
    }
    assert.equal(batch.prompts.length, 3);
    for (const [i, prompt] of batch.prompts.entries()) {
      const meta = batch.promptMetadata[i] as { colour: string; shape: string };
      assert.equal(prompt, `a ${meta.colour} ${meta.shape}`);
    }
    assert.deepEqual(batch.rewards, result.rewards.slice(-3), "the images are the last micro-batch's");
  });
});

test("a step not asked to keep its images returns none", async () => {
  await withJob({}, (job) => {
    assert.equal(job.step({ keepImages: false }).images, undefined);
  });
});

test("imageSize sets the size of the generated images", async () => {
  await withJob({ imageSize: 16, hidden: 16 }, (job) => {
    const images = job.step({ keepImages: true }).images!.images;
    assert.deepEqual(
      images.map((i) => [i.width, i.height, i.rgb.length]),
      Array.from({ length: OPTIONS.batchSize }, () => [16, 16, 16 * 16 * 3]),
    );
  });
});
