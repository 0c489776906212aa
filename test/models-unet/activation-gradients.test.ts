/**
 * SiLU's and GEGLU's written-out gradients (src/models/nn/activations.ts) against TF.js's chain of kernel gradients
 * through the same functions written as TF.js ops: values and gradients within 1e-5 relative, including inputs far
 * into both tails; no tensor left behind.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { geglu, gelu, silu } from "../../src/models/nn/activations.js";
import { randomValues, relativeErrors } from "../tf/compare.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** Values spread over [−8, 8], where σ and Φ saturate at both ends. */
const wide = (shape: number[], seed: number) => tf.tensor(randomValues(shape, seed).map((v) => v * 8), shape);

/** f's value and its gradients for xs under dy, as arrays. */
const valueAndGrads = (f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor) =>
  tf.tidy(() => [f(...xs), ...tf.grads(f)(xs, dy)].map((t) => t.dataSync() as Float32Array));

const assertClose = (ours: Float32Array[], theirs: Float32Array[], names: string[]) =>
  relativeErrors(ours, theirs).forEach((err, i) => assert.ok(err < 1e-5, `${names[i]}: relative error ${err.toExponential(2)}`));

for (const shape of [[2, 5, 6, 8], [3, 7, 16]]) {
  test(`SiLU's value and gradient match TF.js's chain through x·σ(x): [${shape}]`, () => {
    const [x, dy] = [wide(shape, 1), tf.tensor(randomValues(shape, 2), shape)];
    const reference = (a: tf.Tensor) => tf.mul(a, tf.sigmoid(a));
    assertClose(valueAndGrads((a) => silu(a), [x], dy), valueAndGrads(reference, [x], dy), ["value", "dx"]);
    tf.dispose([x, dy]);
  });

  test(`GEGLU's value and gradients match TF.js's chain through value·gelu(gate): [${shape}]`, () => {
    const [value, gate, dy] = [tf.tensor(randomValues(shape, 3), shape), wide(shape, 4), tf.tensor(randomValues(shape, 5), shape)];
    const reference = (v: tf.Tensor, g: tf.Tensor) => tf.mul(v, gelu(g));
    assertClose(valueAndGrads(geglu, [value, gate], dy), valueAndGrads(reference, [value, gate], dy), ["value", "dvalue", "dgate"]);
    tf.dispose([value, gate, dy]);
  });
}

test("SiLU's and GEGLU's gradients leave no tensors behind", () => {
  const [x, g] = [wide([2, 3, 4], 6), wide([2, 3, 4], 7)];
  const once = () => tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(geglu(silu(a), b))))([x, g]));
  once();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) once();
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([x, g]);
});
