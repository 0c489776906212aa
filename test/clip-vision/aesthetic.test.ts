/**
 * The aesthetic reward: LAION head structure, numerics and gradient of the whole path (preprocess → transformers'
 * CLIPVisionModelWithProjection → L2 norm → head, as TRL's AestheticScorer) against PyTorch in float64.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../src/io/safetensors.js";
import { validateClipVisionConfig } from "../../src/models/clip/vision-config.js";
import { CLIPVisionModelWithProjection, loadClipVisionStateDict } from "../../src/models/clip/vision-model.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { loadStateDict } from "../../src/models/nn/state-dict.js";
import { AestheticHead, aestheticHeadWidths, aestheticReward, LAION_HEAD_WIDTHS, loadAestheticHead } from "../../src/rewards/aesthetic.js";
import { requireDifferentiable, scoreImages } from "../../src/rewards/reward.js";
import { fixturePath, maxAbsDiff, readTensors, tensorOf, TINY_VISION } from "./fixtures.js";

const TOLERANCE = 1e-5;
let io: TensorMap;
let visionWeights: TensorMap;

before(async () => {
  await tf.setBackend("cpu");
  io = await readTensors("aesthetic-io.safetensors");
  visionWeights = await readTensors("vision.safetensors");
});

function tinyVision(): CLIPVisionModelWithProjection {
  const vision = new CLIPVisionModelWithProjection(SHAPE_ONLY, validateClipVisionConfig(TINY_VISION));
  loadClipVisionStateDict(vision, visionWeights);
  return vision;
}

test("LAION's head has the public file's 10 keys (layers.0/2/4/6/7) and 927,969 parameters", () => {
  const head = new AestheticHead(SHAPE_ONLY, LAION_HEAD_WIDTHS);
  const keys = head.namedParameters().map(([key, p]) => `${key}:${p.torchShape}`);
  assert.deepEqual(keys, [
    "layers.0.weight:1024,768", "layers.0.bias:1024", "layers.2.weight:128,1024", "layers.2.bias:128",
    "layers.4.weight:64,128", "layers.4.bias:64", "layers.6.weight:16,64", "layers.6.bias:16",
    "layers.7.weight:1,16", "layers.7.bias:1",
  ]);
  assert.equal(head.parameterCount(), 927_969);
});

test("rewards of a tiny CLIP + tiny head on 40×48 images and their gradient match transformers within 1e-5", async (t) => {
  const vision = tinyVision();
  const head = await loadAestheticHead(fixturePath("aesthetic.safetensors"));
  const reward = aestheticReward(vision, head);
  const [err, gradErr] = tf.tidy(() => {
    const images = tensorOf(io, "images", "nchw") as tf.Tensor4D;
    const rewards = scoreImages(reward, images, ["a", "b"], [{}, {}]).rewards;
    const grad = tf.grad((x: tf.Tensor) => tf.sum(reward.score(x as tf.Tensor4D, ["a", "b"], [{}, {}]).rewards))(images);
    return [maxAbsDiff(rewards, tensorOf(io, "rewards")), maxAbsDiff(grad, tensorOf(io, "grad.images", "nchw"))];
  });
  t.diagnostic(`max abs errors: rewards ${err!.toExponential(2)}, d(sum rewards)/d(images) ${gradErr!.toExponential(2)}`);
  assert.ok(err! <= TOLERANCE, `rewards max abs error ${err}`);
  assert.ok(gradErr! <= TOLERANCE, `gradient max abs error ${gradErr}`);
  vision.dispose();
  head.dispose();
});

test("the reward declares itself differentiable, scoring any size, with the head's exact range over unit embeddings", async () => {
  const vision = tinyVision();
  const head = await loadAestheticHead(fixturePath("aesthetic.safetensors"));
  const reward = aestheticReward(vision, head, { clipName: "tiny" });
  assert.equal(reward.info.name, "aesthetic");
  assert.equal(reward.info.inputSize, null);
  assert.equal(reward.info.differentiable, true);
  assert.doesNotThrow(() => requireDifferentiable(reward));
  assert.match(reward.info.description, /MLP 16→32→16→8→4→1\) .* CLIP tiny; .*shortest edge → 32, bicubic antialiased/);
  const [low, high] = reward.info.range;
  tf.tidy(() => {
    // The bounds are attained at ±w/‖w‖ and hold for random unit vectors.
    const bias = head.forward(tf.zeros([1, 16]) as tf.Tensor2D);
    const w = tf.sub(head.forward(tf.eye(16) as tf.Tensor2D), bias);
    const extremes = head.forward(tf.stack([tf.div(w, tf.norm(w)), tf.div(tf.neg(w), tf.norm(w))]) as tf.Tensor2D).dataSync();
    assert.ok(Math.abs(extremes[0]! - high) < 1e-5 && Math.abs(extremes[1]! - low) < 1e-5, `${[...extremes]} vs [${low}, ${high}]`);
    const unit = tf.div(tf.randomNormal([64, 16], 0, 1, "float32", 5), tf.norm(tf.randomNormal([64, 16], 0, 1, "float32", 5), 2, -1, true));
    for (const r of head.forward(unit as tf.Tensor2D).dataSync()) assert.ok(r >= low - 1e-5 && r <= high + 1e-5);
  });
  vision.dispose();
  head.dispose();
});

test("a head whose layers do not chain, or that lacks a layer, is refused naming the key", () => {
  const weights = (shapes: Record<number, [number, number]>): TensorMap =>
    Object.fromEntries(Object.entries(shapes).map(([at, [o, i]]) => [`layers.${at}.weight`, { shape: [o, i], data: new Float32Array(o * i) }]));
  assert.deepEqual(aestheticHeadWidths(weights({ 0: [8, 4], 2: [6, 8], 4: [5, 6], 6: [3, 5], 7: [1, 3] }), "h"), [4, 8, 6, 5, 3, 1]);
  assert.throws(() => aestheticHeadWidths(weights({ 0: [8, 4], 2: [6, 7], 4: [5, 6], 6: [3, 5], 7: [1, 3] }), "h"), /h: layers\.2\.weight is \[6,7\], but the previous layer gives 8 features/);
  assert.throws(() => aestheticHeadWidths(weights({ 0: [8, 4], 2: [6, 8], 4: [5, 6], 7: [1, 3] }), "h"), /h is not an aesthetic head: no 2-d layers\.6\.weight/);
});

test("a head whose input width differs from the CLIP projection_dim is refused with both widths", () => {
  const vision = new CLIPVisionModelWithProjection(SHAPE_ONLY, validateClipVisionConfig(TINY_VISION));
  const head = new AestheticHead(SHAPE_ONLY, LAION_HEAD_WIDTHS);
  assert.throws(() => aestheticReward(vision, head), /the aesthetic head takes 768-d embeddings but the CLIP model gives projection_dim=16/);
});

test("scoring inside tf.tidy leaves no tensors behind", async () => {
  const vision = tinyVision();
  const head = new AestheticHead({ shapeOnly: false }, [16, 4, 4, 4, 4, 1]);
  loadStateDict(head, Object.fromEntries(head.namedParameters().map(([k, p]) => [k, { shape: [...p.torchShape], data: new Float32Array(p.size).fill(0.1) }])));
  const reward = aestheticReward(vision, head);
  const images = tf.randomUniform([1, 20, 30, 3]) as tf.Tensor4D;
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    reward.score(images, ["a"], [{}]);
  });
  assert.equal(tf.memory().numTensors, start);
  tf.dispose(images);
  vision.dispose();
  head.dispose();
});
