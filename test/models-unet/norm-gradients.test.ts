/**
 * GroupNorm's and LayerNorm's written-out gradients (src/models/nn/layers.ts) against TF.js's chain of kernel
 * gradients through the same forward passes (whose values nn-layers.test.ts checks against torch.nn): dx, dweight and
 * dbias on images and sequences (GroupNorm with one group per channel up to one group for all), within 1e-5
 * relative; no tensor left behind.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { GroupNorm, LayerNorm } from "../../src/models/nn/layers.js";
import { randomValues, relativeErrors } from "../tf/compare.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** The forward pass as TF.js ops, differentiated kernel by kernel: the reference. */
function reference(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, groups: number, eps: number): tf.Tensor {
  const [b] = x.shape as [number];
  const c = x.shape[x.rank - 1]!;
  const positionAxes = x.shape.slice(1, -1).map((_, i) => i + 1);
  const statShape = x.shape.map((d, i) => (i === 0 || i === x.rank - 1 ? d : 1));
  const n = (x.size / b / c) * (c / groups);
  const groupMean = (t: tf.Tensor) =>
    tf.reshape(tf.tile(tf.div(tf.sum(tf.reshape(tf.sum(t, positionAxes), [b, groups, c / groups]), 2, true), n), [1, 1, c / groups]), statShape);
  const centered = tf.sub(x, groupMean(x));
  const scale = tf.mul(tf.rsqrt(tf.add(groupMean(tf.square(centered)), eps)), w);
  return tf.add(tf.mul(centered, scale), bias);
}

const cases: [string, number[], number][] = [
  ["an image [2, 5, 6, 8], 4 groups", [2, 5, 6, 8], 4],
  ["an image [3, 4, 4, 6], one group", [3, 4, 4, 6], 1],
  ["a sequence [2, 7, 8], a group per channel", [2, 7, 8], 8],
];

for (const [name, shape, groups] of cases) {
  test(`GroupNorm's gradients for x, weight and bias match TF.js's chain: ${name}`, () => {
    const c = shape.at(-1)!;
    const norm = new GroupNorm({ shapeOnly: false, init: (s) => tf.tensor(randomValues(s, 3), s) }, groups, c, 1e-5);
    const [x, dy] = [tf.tensor(randomValues(shape, 1), shape), tf.tensor(randomValues(shape, 2), shape)];
    const [w, bias] = [norm.weight.tensor, norm.bias.tensor];
    const grads = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => [f(x, w, bias), ...tf.grads(f)([x, w, bias], dy)].map((t) => t.dataSync() as Float32Array));
    const ours = grads((a) => norm.forward(a));
    const theirs = grads((a, b, d) => reference(a, b, d, groups, 1e-5));
    const errors = relativeErrors(ours, theirs);
    errors.forEach((err, i) => assert.ok(err < 1e-5, `${["value", "dx", "dweight", "dbias"][i]}: relative error ${err.toExponential(2)}`));
    tf.dispose([x, dy]);
    norm.dispose();
  });
}

test("GroupNorm's gradient leaves no tensors behind", () => {
  const norm = new GroupNorm({ shapeOnly: false, init: (s) => tf.ones(s) }, 2, 4);
  const x = tf.tensor(randomValues([2, 3, 3, 4], 5), [2, 3, 3, 4]);
  const once = () => tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(tf.square(norm.forward(a))))([x]));
  once();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) once();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose(x);
  norm.dispose();
});

/** LayerNorm as TF.js ops: the reference. */
function layerNormReference(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), w), bias);
}

for (const shape of [[2, 7, 8], [5, 6], [2, 3, 4, 6]]) {
  test(`LayerNorm's gradients for x, weight and bias match TF.js's chain: [${shape}]`, () => {
    const norm = new LayerNorm({ shapeOnly: false, init: (s) => tf.tensor(randomValues(s, 4), s) }, shape.at(-1)!, 1e-5);
    const [x, dy] = [tf.tensor(randomValues(shape, 1), shape), tf.tensor(randomValues(shape, 2), shape)];
    const [w, bias] = [norm.weight.tensor, norm.bias.tensor];
    const grads = (f: (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => [f(x, w, bias), ...tf.grads(f)([x, w, bias], dy)].map((t) => t.dataSync() as Float32Array));
    const errors = relativeErrors(grads((a) => norm.forward(a)), grads((a, b, c) => layerNormReference(a, b, c, 1e-5)));
    errors.forEach((err, i) => assert.ok(err < 1e-5, `${["value", "dx", "dweight", "dbias"][i]}: relative error ${err.toExponential(2)}`));
    tf.dispose([x, dy]);
    norm.dispose();
  });
}
