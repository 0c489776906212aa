/** Gradient checkpointing gives the plain path's gradients with a lower peak of live tensor bytes. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { checkpointedGrads, type Segment } from "../../src/tf/checkpoint.js";
import { randomValues } from "./compare.js";

before(async () => {
  await tf.setBackend("cpu");
});

const SEGMENTS = 6;

/** Six conv → tanh → gated residual blocks on [2, 12, 12, 8]: activations dwarf the weights. */
function chain() {
  const weights = Array.from({ length: SEGMENTS }, (_, i) => tf.variable(tf.tensor4d(randomValues([3, 3, 8, 8], 100 + i), [3, 3, 8, 8]).mul(0.2)));
  const gate = tf.variable(tf.tensor1d(randomValues([8], 99)));
  const segments = weights.map((w) => (x: tf.Tensor): tf.Tensor => {
    const h = tf.tanh(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same")); // [B, H, W, C]
    return tf.add(x, tf.mul(tf.sigmoid(tf.mul(h, gate)), h));
  });
  const input = tf.tensor4d(randomValues([2, 12, 12, 8], 7), [2, 12, 12, 8]);
  const loss = (y: tf.Tensor) => tf.mean(tf.square(y)) as tf.Scalar;
  return { params: [...weights, gate], segments, input, loss };
}

test("checkpointed gradients equal the plain path's and the peak of live tensor bytes is lower", async () => {
  const { params, segments, input, loss } = chain();
  let plain: tf.Tensor[] = [];
  let plainValue = 0;
  // tf.profile hands back the same object each call: read peakBytes before profiling again.
  const plainPeak = (await tf.profile(() => {
    const { value, grads } = tf.engine().gradients(() => loss(segments.reduce<tf.Tensor>((x, f) => f(x), input)), [input, ...params]);
    plainValue = value.dataSync()[0]!;
    value.dispose();
    plain = grads;
  })).peakBytes;
  let checkpointed: tf.Tensor[] = [];
  let checkpointedValue = 0;
  const checkpointedPeak = (await tf.profile(() => {
    const { value, grads, inputGrad } = checkpointedGrads(segments, input, loss, params);
    checkpointedValue = value.dataSync()[0]!;
    value.dispose();
    checkpointed = [inputGrad, ...grads];
  })).peakBytes;

  assert.ok(Math.abs(plainValue - checkpointedValue) <= 1e-6, `loss ${plainValue} vs ${checkpointedValue}`);
  for (const [i, g] of plain.entries()) {
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, checkpointed[i]!))).dataSync()[0]!);
    assert.ok(diff <= 1e-5, `gradient ${i}: max abs diff ${diff}`);
  }
  assert.ok(
    checkpointedPeak < plainPeak * 0.75,
    `peak bytes: checkpointed ${checkpointedPeak} vs plain ${plainPeak}`,
  );
  tf.dispose([...plain, ...checkpointed, ...params, input]);
});

test("checkpointing leaves no tensors behind beyond the loss and gradients it returns", () => {
  const { params, segments, input, loss } = chain();
  const before = tf.memory().numTensors;
  const { value, grads, inputGrad, penalty } = checkpointedGrads(segments, input, loss, params);
  assert.equal(tf.memory().numTensors, before + 3 + grads.length);
  tf.dispose([value, inputGrad, penalty, ...grads, ...params, input]);
});

test("segment penalties join the objective with their weight, and their gradients equal the plain path's", () => {
  const { params, segments, input, loss } = chain();
  // Every other segment also returns a penalty, mean(y²) of its output.
  const penalized: Segment[] = segments.map((f, i) => (x) => {
    const y = f(x);
    return i % 2 ? { y, penalty: tf.mean(tf.square(y)) as tf.Scalar } : y;
  });
  const weight = 0.3;
  const plain = tf.engine().gradients(() => {
    let x: tf.Tensor = input;
    let sum = tf.scalar(0);
    for (const [i, f] of segments.entries()) {
      x = f(x);
      if (i % 2) sum = tf.add(sum, tf.mean(tf.square(x)));
    }
    return tf.add(loss(x), tf.mul(sum, weight)) as tf.Scalar;
  }, [input, ...params]);
  const ours = checkpointedGrads(penalized, input, loss, params, weight);
  const unweighted = checkpointedGrads(penalized, input, loss, params);
  assert.ok(Math.abs(plain.value.dataSync()[0]! - ours.value.dataSync()[0]!) <= 1e-6);
  assert.ok(Math.abs(ours.penalty.dataSync()[0]! - unweighted.penalty.dataSync()[0]!) <= 1e-7);
  assert.ok(ours.penalty.dataSync()[0]! > 0);
  for (const [i, g] of plain.grads.entries()) {
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(g, [ours.inputGrad, ...ours.grads][i]!))).dataSync()[0]!);
    assert.ok(diff <= 1e-5, `gradient ${i}: max abs diff ${diff}`);
  }
  tf.dispose([plain.value, ...plain.grads, ours.value, ours.inputGrad, ours.penalty, ...ours.grads, unweighted.value, unweighted.inputGrad, unweighted.penalty, ...unweighted.grads, ...params, input]);
});

test("a parameter the chain does not use gets a zero gradient, and an empty chain is an error", () => {
  const { params, segments, input, loss } = chain();
  const unused = tf.variable(tf.ones([3]));
  const { value, grads, inputGrad } = checkpointedGrads(segments, input, loss, [...params, unused]);
  assert.deepEqual(Array.from(grads[grads.length - 1]!.dataSync()), [0, 0, 0]);
  assert.throws(() => checkpointedGrads([], input, loss, params), /segments is empty/);
  tf.dispose([value, inputGrad, ...grads, ...params, unused, input]);
});
