/** A small training loop on wasm-ort (convs, matmuls, an embedding, Adam) leaks no tensors between steps. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { randomValues } from "./compare.js";

test("numTensors after step 20 equals numTensors after step 1, and the loss goes down", async () => {
  await initBackend("wasm-ort", {});
  const variable = (shape: number[], seed: number, scale: number) =>
    tf.variable(tf.tidy(() => tf.mul(tf.tensor(randomValues(shape, seed), shape), scale)));
  const weights = {
    conv1: variable([3, 3, 3, 8], 1, 0.3),
    bias1: variable([8], 2, 0.1),
    conv2: variable([3, 3, 8, 8], 3, 0.2),
    table: variable([5, 32], 4, 0.1),
    dense: variable([32, 4], 5, 0.2),
  };
  const x = tf.tensor4d(randomValues([4, 8, 8, 3], 6), [4, 8, 8, 3]);
  const ids = tf.tensor1d([0, 3, 3, 1], "int32");
  const target = tf.tensor2d(randomValues([4, 4], 7), [4, 4]);
  const optimizer = tf.train.adam(1e-2);
  const loss = () =>
    tf.tidy(() => {
      const h = tf.fused.conv2d({ x, filter: weights.conv1 as tf.Tensor4D, strides: 1, pad: "same", bias: weights.bias1, activation: "relu" });
      const g = tf.conv2d(h, weights.conv2 as tf.Tensor4D, 2, "same"); // [4, 4, 4, 8]
      const features = tf.add(tf.reshape(tf.mean(g, [1, 2]), [4, 8]).tile([1, 4]), tf.gather(weights.table, ids)); // [4, 32]
      const y = tf.fused.matMul({ a: features, b: weights.dense, activation: "elu" }); // [4, 4]
      return tf.mean(tf.square(tf.sub(y, target))) as tf.Scalar;
    });
  const step = () => {
    const value = optimizer.minimize(loss, true, Object.values(weights))!;
    const v = value.dataSync()[0]!;
    value.dispose();
    return v;
  };

  const first = step();
  const afterFirst = tf.memory().numTensors;
  let last = first;
  for (let i = 2; i <= 20; i++) last = step();
  assert.equal(tf.memory().numTensors, afterFirst);
  assert.ok(last < first, `loss went from ${first} to ${last}`);
  optimizer.dispose();
  tf.dispose([...Object.values(weights), x, ids, target]);
});
