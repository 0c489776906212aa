/**
 * scaledDotProductAttention (src/models/nn/attention.ts): its value and its written-out gradient against TF.js's
 * own chain (matMul, softmax, matMul differentiated kernel by kernel), with and without an additive mask.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { scaledDotProductAttention } from "../../src/models/nn/attention.js";
import { randomValues, relativeErrors } from "../tf/compare.js";

before(async () => {
  await tf.setBackend("cpu");
});

const tensor = (shape: number[], seed: number, scale = 1) => tf.mul(tf.tensor(randomValues(shape, seed), shape), scale);

/** TF.js's composition, the reference. */
const reference = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask?: tf.Tensor) => {
  const scores = tf.matMul(q, k, false, true);
  return tf.matMul(tf.softmax(mask ? tf.add(scores, mask) : scores), v);
};

/** Value and the gradients of Σ value ⊙ w for q, k, v, as arrays. */
function valueAndGrads(attend: typeof reference, shapes: { q: number[]; k: number[]; v: number[] }, mask?: tf.Tensor) {
  return tf.tidy(() => {
    // Scores of a few units, so the softmax is far from uniform and its gradient is not small.
    const [q, k, v] = [tensor(shapes.q, 1, 2), tensor(shapes.k, 2, 2), tensor(shapes.v, 3)];
    const value = attend(q, k, v, mask);
    const w = tensor(value.shape, 4);
    const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(tf.mul(attend(a, b, c, mask), w)))([q, k, v]);
    return [value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const cases: [string, { q: number[]; k: number[]; v: number[] }][] = [
  ["self-attention over heads [2, 3, 7, 4]", { q: [2, 3, 7, 4], k: [2, 3, 7, 4], v: [2, 3, 7, 4] }],
  ["cross-attention, 5 keys, values wider than keys", { q: [2, 3, 7, 4], k: [2, 3, 5, 4], v: [2, 3, 5, 6] }],
  ["one head, rank 3 (the VAE's)", { q: [2, 9, 8], k: [2, 9, 8], v: [2, 9, 8] }],
];

for (const [name, shapes] of cases) {
  test(`attention value and q, k, v gradients match TF.js's chain: ${name}`, () => {
    const errors = relativeErrors(valueAndGrads(scaledDotProductAttention, shapes), valueAndGrads(reference, shapes));
    errors.forEach((err, i) => assert.ok(err < 1e-5, `${["value", "dq", "dk", "dv"][i]}: relative error ${err.toExponential(2)}`));
  });
}

test("attention with CLIP's causal mask (−∞ above the diagonal, broadcast over batch and heads) matches TF.js's chain", () => {
  const n = 6;
  const mask = tf.tensor2d(Array.from({ length: n * n }, (_, i) => (i % n > Math.floor(i / n) ? -Infinity : 0)), [n, n]);
  const shapes = { q: [2, 3, n, 4], k: [2, 3, n, 4], v: [2, 3, n, 4] };
  const errors = relativeErrors(valueAndGrads(scaledDotProductAttention, shapes, mask), valueAndGrads(reference, shapes, mask));
  errors.forEach((err, i) => assert.ok(err < 1e-5, `${["value", "dq", "dk", "dv"][i]}: relative error ${err.toExponential(2)}`));
  // The first query sees only the first key: its output is that key's value.
  const [first, value0] = tf.tidy(() => {
    const v = tensor(shapes.v, 3);
    const out = scaledDotProductAttention(tensor(shapes.q, 1), tensor(shapes.k, 2), v, mask);
    return [out, v].map((t) => Array.from(tf.slice(t, [0, 0, 0, 0], [1, 1, 1, 4]).dataSync()));
  });
  assert.deepEqual(first, value0);
  mask.dispose();
});

test("attention's gradient leaves no tensors behind", () => {
  const shapes = { q: [1, 2, 5, 4], k: [1, 2, 5, 4], v: [1, 2, 5, 4] };
  valueAndGrads(scaledDotProductAttention, shapes); // warm: TF.js caches scalars on first use
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) valueAndGrads(scaledDotProductAttention, shapes);
  assert.equal(tf.memory().numTensors, before);
});
