/**
 * User reward modules (`--reward ./my-reward.js`): each export form loads, every broken module fails at start with
 * its path in the message, and differentiability is declared or found by probing.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { resolveReward } from "../../src/rewards/registry.js";
import { requireDifferentiable, scoreImages } from "../../src/rewards/reward.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** test/fixtures/rewards/<name> */
const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/rewards/${name}`, import.meta.url));

test("a default-function module loads, scores [B] and is differentiable", async () => {
  const reward = await resolveReward(fixture("redness.mjs"));
  assert.equal(reward.info.differentiable, true);
  assert.equal(reward.info.inputSize, null);
  tf.tidy(() => {
    const images = tf.tensor4d([0.25, 0, 0, 0.75, 1, 1], [2, 1, 1, 3]);
    assert.deepEqual([...scoreImages(reward, images, ["a", "b"], [{}, {}]).rewards.dataSync()], [0.25, 0.75]);
  });
});

test("a default-object module with TRL's [rewards, meta] tuple loads with its name, input size and range", async () => {
  const reward = await resolveReward(fixture("object-export.mjs"));
  assert.deepEqual(
    { name: reward.info.name, inputSize: reward.info.inputSize, range: reward.info.range, differentiable: reward.info.differentiable },
    { name: "mean-pixel", inputSize: 16, range: [0, 1], differentiable: true },
  );
  const images = tf.fill([1, 8, 8, 3], 0.5) as tf.Tensor4D;
  const out = scoreImages(reward, images, ["a"], [{}]);
  assert.deepEqual(out.meta, { size: 16, prompts: 1 });
  tf.dispose([images, out.rewards]);
});

test("a module whose rewards have no gradient is marked non-differentiable and refused for AlignProp", async () => {
  const reward = await resolveReward(fixture("values-only.mjs"));
  assert.equal(reward.info.differentiable, false);
  assert.throws(() => requireDifferentiable(reward), /values-only\.mjs" is not differentiable.*DDPO/s);
  assert.equal((await resolveReward(fixture("declared-nondiff.mjs"))).info.differentiable, false);
});

test("a module claiming differentiable: true without a gradient fails at start, naming its path", async () => {
  await assert.rejects(resolveReward(fixture("claims-gradient.mjs")), /reward module .*claims-gradient\.mjs says differentiable: true, but its rewards have no gradient/);
});

test("a wrong output shape, a missing export, a missing file and a throwing reward each fail at start with the path", async () => {
  await assert.rejects(resolveReward(fixture("wrong-shape.mjs")), /wrong-shape\.mjs returned \[\[.*\]\] for a probe batch of 2 images; it must return a \[2\] tensor/);
  await assert.rejects(resolveReward(fixture("no-reward.mjs")), /no-reward\.mjs exports no reward: export a default function/);
  await assert.rejects(resolveReward("./no/such/reward.js"), /reward module \.\/no\/such\/reward\.js could not be loaded/);
  await assert.rejects(resolveReward(fixture("throws.mjs")), /throws\.mjs failed on a probe batch: cannot read the scorer's weights/);
});

test("validating a module leaks no tensors", async () => {
  const before = tf.memory().numTensors;
  await resolveReward(fixture("redness.mjs"));
  await resolveReward(fixture("values-only.mjs"));
  assert.equal(tf.memory().numTensors, before);
});
