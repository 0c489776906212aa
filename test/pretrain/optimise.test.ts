import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { learningRateAt, runStage } from "../../src/pretrain/optimise.js";

test("the learning rate warms up linearly, then decays along a cosine to a tenth of the peak", () => {
  assert.equal(learningRateAt(0, 100, 1, 10), 0.1);
  assert.equal(learningRateAt(9, 100, 1, 10), 1);
  assert.ok(Math.abs(learningRateAt(10, 100, 1, 10) - 1) < 1e-12);
  assert.ok(Math.abs(learningRateAt(55, 100, 1, 10) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRateAt(100, 100, 1, 10) - 0.1) < 1e-12);
  for (let s = 11; s < 100; s++) assert.ok(learningRateAt(s, 100, 1, 10) <= learningRateAt(s - 1, 100, 1, 10));
});

test("a stage fits a least-squares problem, leaves no tensor behind per step, and restores trainable flags", () => {
  const w = tf.variable(tf.zeros([3, 1]), false);
  const x = tf.tensor2d([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]]);
  const y = tf.tensor2d([[1], [-2], [3], [2]]);
  const counts: number[] = [];
  const losses = runStage(
    { name: "lsq", steps: 300, learningRate: 0.05, warmup: 5, params: [w], prepare: () => ({}), loss: () => tf.losses.meanSquaredError(y, tf.matMul(x, w)) as tf.Scalar },
    () => counts.push(tf.memory().numTensors),
  );
  assert.ok(losses.at(-1)! < 1e-3 && losses[0]! > 1, `loss ${losses[0]} → ${losses.at(-1)}`);
  assert.equal(new Set(counts.slice(1)).size, 1, "tensor count is constant from step to step");
  assert.equal(w.trainable, false);
  assert.deepEqual([...w.dataSync()].map((v) => Math.round(v)), [1, -2, 3]);
  tf.dispose([w, x, y]);
});

test("a loss that is not finite stops the stage with an error naming it and the step", () => {
  const w = tf.variable(tf.ones([2]), false);
  assert.throws(
    () => runStage({ name: "boom", steps: 5, learningRate: 0.1, warmup: 1, params: [w], prepare: () => ({}), loss: () => tf.div(tf.sum(w), 0) as tf.Scalar }),
    /pretraining stage boom: the loss is Infinity at step 1/,
  );
  w.dispose();
});
