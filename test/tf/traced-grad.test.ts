/**
 * A traced call's gradient graph (src/tf/ort/traced-call.ts) reads the values the forward pass saves for the gradient
 * from its own inputs, not from the run the trace was recorded on: at inputs other than the traced ones it matches
 * TF.js's own gradient.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { tracedCall } from "../../src/tf/ort/traced-call.js";

before(async () => {
  await initBackend("wasm-ort");
});

/** Softmax saves its output and Mul both inputs for their gradients; the weight is a trainable graph input. */
const layer = (x: tf.Tensor2D, w: tf.Tensor2D) => tf.softmax(tf.mul(tf.matMul(x, w), x));

function gradients(x: tf.Tensor2D, w: tf.Variable<tf.Rank.R2>, traced: boolean): Float32Array[] {
  return tf.tidy(() => {
    const f = () => tf.sum(tf.square(traced ? tracedCall("test|softmax-layer", [x, w], [0], () => layer(x, w)) : layer(x, w))) as tf.Scalar;
    return tf.engine().gradients(f, [x, w]).grads.map((g) => g.dataSync() as Float32Array);
  });
}

test("a traced call's gradient at a second input equals TF.js's gradient there", () => {
  const w = tf.variable(tf.randomNormal([4, 4], 0, 1, "float32", 1) as tf.Tensor2D, true);
  const first = tf.randomNormal([3, 4], 0, 1, "float32", 2) as tf.Tensor2D;
  const second = tf.randomNormal([3, 4], 0, 2, "float32", 3) as tf.Tensor2D;
  gradients(first, w, true); // traces the forward and gradient graphs on the first input
  const traced = gradients(second, w, true);
  const reference = gradients(second, w, false);
  traced.forEach((g, i) => {
    const scale = Math.max(...reference[i]!.map(Math.abs));
    g.forEach((v, j) => assert.ok(Math.abs(v - reference[i]![j]!) <= 1e-5 * scale, `grad ${i}[${j}]: ${v} vs ${reference[i]![j]}`));
  });
  tf.dispose([w, first, second]);
});
