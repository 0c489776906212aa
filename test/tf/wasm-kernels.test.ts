/**
 * The training kernels plain wasm lacks (Conv2DBackpropFilter, UnsortedSegmentSum), registered by initBackend("wasm"),
 * match the stock cpu kernels.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { assertMatchesCpu, gradsOf } from "./compare.js";

before(async () => {
  await initBackend("wasm", {});
});

type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;
const CASES: { stride: number; pad: Pad; k: number; hw: number }[] = [
  { stride: 1, pad: "same", k: 3, hw: 8 },
  { stride: 2, pad: "same", k: 3, hw: 9 },
  { stride: 2, pad: "valid", k: 3, hw: 8 },
  { stride: 1, pad: "same", k: 1, hw: 8 },
  { stride: 2, pad: "valid", k: 1, hw: 9 },
  { stride: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]], k: 3, hw: 9 },
];

for (const { stride, pad, k, hw } of CASES) {
  test(`the filter gradient of a ${k}×${k} conv with stride ${stride} and pad ${JSON.stringify(pad)} on ${hw}×${hw} matches cpu`, async () => {
    const conv = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
    await assertMatchesCpu("wasm", gradsOf((x, w) => conv(x!, w!)), [[2, hw, hw, 3], [k, k, 3, 5]]);
  });
}

test("the gradient of an embedding lookup (gather → UnsortedSegmentSum) matches cpu, repeated ids summed", async () => {
  const lookup = (table: tf.Tensor) => tf.gather(table, tf.tensor2d([[0, 3, 3], [5, 0, 1]], [2, 3], "int32"));
  await assertMatchesCpu("wasm", gradsOf((table) => lookup(table!)), [[6, 4]]);
});

test("UnsortedSegmentSum drops ids outside [0, numSegments) and sums int32 values", async () => {
  const y = tf.tidy(() =>
    tf.unsortedSegmentSum(tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]], [4, 2], "int32"), tf.tensor1d([2, -1, 2, 5], "int32"), 3),
  );
  assert.equal(y.dtype, "int32");
  assert.deepEqual(y.arraySync(), [[0, 0], [0, 0], [6, 8]]);
  y.dispose();
});
