/**
 * A traced call (src/tf/ort/traced-call.ts) is traced once and then run on other inputs: its forward and its
 * gradient graph must compute from those inputs, not from the values seen while tracing.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { tracedCall } from "../../src/tf/ort/traced-call.js";

before(async () => {
  await initBackend("wasm-ort");
});

const relativeError = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.norm(tf.sub(a, b)).dataSync()[0]! / tf.norm(b).dataSync()[0]!);

test("a traced call's gradient, traced at one input, is the gradient at each later input (saved activations are graph values)", () => {
  // Exp and Sigmoid save their outputs and Square its input for the backward pass: TF.js copies them (engine.clone).
  const w = tf.variable(tf.randomNormal([6, 5], 0, 0.5, "float32", 1));
  const f = (x: tf.Tensor2D, t: tf.Tensor1D) =>
    tf.tidy(() => tf.sigmoid(tf.matMul(tf.exp(tf.mul(x, tf.reshape(t, [-1, 1]))), tf.square(w))) as tf.Tensor2D);
  const dy = tf.randomNormal([3, 5], 0, 1, "float32", 2);
  const gradients = (x: tf.Tensor2D, t: tf.Tensor1D, traced: boolean) =>
    tf.engine().gradients(
      () => tf.sum(tf.mul(traced ? tracedCall("test|saved", [x, t, w], [0], () => f(x, t)) : f(x, t), dy)) as tf.Scalar,
      [x, w],
    );
  const draws = [1, 2, 3].map((seed) => [tf.randomNormal([3, 6], 0, 1, "float32", 10 + seed), tf.tensor1d([seed, 2 * seed, -seed])] as const);
  for (const [x, t] of draws) {
    const traced = gradients(x as tf.Tensor2D, t, true);
    const reference = gradients(x as tf.Tensor2D, t, false);
    assert.ok(relativeError(traced.value, reference.value) < 1e-6, "forward");
    traced.grads.forEach((g, i) => {
      const e = relativeError(g, reference.grads[i]!);
      assert.ok(e < 1e-5, `gradient ${i} is ${e} off TF.js's own at t=${t.dataSync()}`);
    });
  }
});
