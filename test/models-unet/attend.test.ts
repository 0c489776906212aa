/**
 * The attention core (src/models/nn/attend.ts): its value is softmax(q·kᵀ)·v and its FlashAttention-style gradient
 * is TF.js's own chain rule through softmax and the two matmuls, within 1e-5 relative, for multi-head [B, h, N, d]
 * and single-head [B, N, C] shapes, cross-attention (M ≠ N) included.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { attend } from "../../src/models/nn/attend.js";
import { randomValues, relativeErrors } from "../tf/compare.js";

before(async () => {
  await tf.setBackend("cpu");
});

const plain = (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.matMul(tf.softmax(tf.matMul(q, k, false, true)), v);

for (const [name, qShape, kShape, vShape] of [
  ["multi-head self-attention", [2, 3, 16, 8], [2, 3, 16, 8], [2, 3, 16, 8]],
  ["multi-head cross-attention", [2, 3, 16, 8], [2, 3, 7, 8], [2, 3, 7, 8]],
  ["single-head attention", [2, 20, 12], [2, 20, 12], [2, 20, 12]],
] as const) {
  test(`attend matches softmax(q·kᵀ)·v and TF.js's gradient for ${name}`, () => {
    const [q, k, v] = [qShape, kShape, vShape].map((s, i) => tf.mul(tf.tensor(randomValues(s, 3 + i), [...s]), 2));
    const dy = tf.tensor(randomValues(plain(q!, k!, v!).shape, 9), plain(q!, k!, v!).shape);
    const ours = tf.grads((q, k, v) => attend(q!, k!, v!))([q!, k!, v!], dy);
    const theirs = tf.grads((q, k, v) => plain(q!, k!, v!))([q!, k!, v!], dy);
    const values = [attend(q!, k!, v!), plain(q!, k!, v!)];
    const errors = relativeErrors([values[0]!, ...ours].map((t) => t.dataSync() as Float32Array), [values[1]!, ...theirs].map((t) => t.dataSync() as Float32Array));
    errors.forEach((e, i) => assert.ok(e < 1e-5, `${["value", "dq", "dk", "dv"][i]}: relative error ${e}`));
    tf.dispose([q!, k!, v!, dy, ...ours, ...theirs, ...values]);
  });
}
