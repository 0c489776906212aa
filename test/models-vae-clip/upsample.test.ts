import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { upsampleNearest2x, upsampleNearestTo } from "../../src/models/nn/upsample.js";

before(async () => {
  await tf.setBackend("cpu");
});

test("nearest ×2 upsampling equals the stock resizeNearestNeighbor kernel on a batch of non-square images", () => {
  const same = tf.tidy(() => {
    const x = tf.randomNormal([2, 3, 5, 4], 0, 1, "float32", 1) as tf.Tensor4D;
    return tf.all(tf.equal(upsampleNearest2x(x), tf.image.resizeNearestNeighbor(x, [6, 10]))).dataSync()[0];
  });
  assert.equal(same, 1);
});

test("its gradient equals the stock kernel's (taken one image at a time: its cpu gradient is wrong for batch > 1)", () => {
  const err = tf.tidy(() => {
    const x = tf.randomNormal([2, 3, 5, 4], 0, 1, "float32", 2) as tf.Tensor4D;
    const dy = tf.randomNormal([2, 6, 10, 4], 0, 1, "float32", 3);
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(upsampleNearest2x(v as tf.Tensor4D), dy)))(x);
    const stock = tf.concat(
      [0, 1].map((i) => {
        const dyi = tf.slice(dy, [i, 0, 0, 0], [1, -1, -1, -1]);
        const xi = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
        return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(v as tf.Tensor4D, [6, 10]), dyi)))(xi);
      }),
    );
    return tf.max(tf.abs(tf.sub(grad, stock))).dataSync()[0]!;
  });
  assert.ok(err < 1e-5, `max abs error ${err}`);
});

test("upsampling to 2·in − 1 picks PyTorch's nearest pixels (the stock kernel's) and refuses other sizes", () => {
  const same = tf.tidy(() => {
    const x = tf.randomNormal([2, 4, 5, 3], 0, 1, "float32", 4) as tf.Tensor4D;
    return tf.all(tf.equal(upsampleNearestTo(x, 7, 10), tf.image.resizeNearestNeighbor(x, [7, 10]))).dataSync()[0];
  });
  assert.equal(same, 1);
  assert.throws(() => tf.tidy(() => upsampleNearestTo(tf.zeros([1, 4, 4, 1]) as tf.Tensor4D, 12, 8)), /only 2×in or 2×in−1/);
});
