/**
 * CLIP preprocessing (shortest-edge resize, centre crop, mean/std) against CLIPImageProcessor's torchvision path —
 * torch's antialiased interpolate on float images, run in float64 by python/oracle/clip_vision.py — and against the
 * PIL path transformers runs when torchvision is absent, which works on 8-bit images and rounds after resizing.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../src/io/safetensors.js";
import { clipPreprocess, resizeWeights, shortestEdgeSize, type ClipResample } from "../../src/models/clip/image-preprocess.js";
import { maxAbsDiff, readTensors, tensorOf } from "./fixtures.js";

const TOLERANCE = 1e-5;
/**
 * CLIPImageProcessor (PIL backend) rounds the resized image to 8 bits and resamples in PIL's fixed point: on a smooth
 * 8-bit image the two differ by about one 8-bit level (measured: max 1.56e-2 in normalised units, i.e. 1.07/255 of a
 * pixel value; mean 4.6e-3). On noise, where bicubic overshoots past 0 or 255 and PIL clips, they differ by up to
 * 0.16 — which is why the differentiable path follows the torchvision backend instead.
 */
const PIL_TOLERANCE = 2e-2;
let io: TensorMap;

before(async () => {
  await tf.setBackend("cpu");
  io = await readTensors("preprocess.safetensors");
});

for (const resample of ["bicubic", "bilinear"] as ClipResample[]) {
  test(`${resample}: downscaling 40×56 and upscaling 20×12 to 32 matches torch's interpolate(antialias=True) + crop + normalise within 1e-5`, (t) => {
    const errors = tf.tidy(() => {
      const down = clipPreprocess(tensorOf(io, "images", "nchw") as tf.Tensor4D, { size: 32, resample });
      const up = clipPreprocess(tensorOf(io, "small", "nchw") as tf.Tensor4D, { size: 32, resample });
      assert.deepEqual(down.shape, [2, 32, 32, 3]);
      assert.deepEqual(up.shape, [1, 32, 32, 3]);
      return [maxAbsDiff(down, tensorOf(io, `out.${resample}`, "nchw")), maxAbsDiff(up, tensorOf(io, `small.${resample}`, "nchw"))];
    });
    t.diagnostic(`max abs errors ${errors.map((e) => e.toExponential(2)).join(", ")}`);
    for (const err of errors) assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  });
}

test("the gradient reaches the input image and equals torch's autograd within 1e-5, zero only outside the crop", (t) => {
  const [err, zeroColumns] = tf.tidy(() => {
    const images = tensorOf(io, "images", "nchw") as tf.Tensor4D;
    const weights = tensorOf(io, "grad.weights", "nchw");
    const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(clipPreprocess(x as tf.Tensor4D, { size: 32 }), weights)))(images);
    const columnHasGradient = tf.any(tf.notEqual(grad, 0), [0, 1, 3]); // [W]
    return [maxAbsDiff(grad, tensorOf(io, "grad.images", "nchw")), [...columnHasGradient.dataSync()].map((v, x) => (v ? -1 : x)).filter((x) => x >= 0)];
  });
  t.diagnostic(`max abs error ${(err as number).toExponential(2)}`);
  assert.ok((err as number) <= TOLERANCE, `max abs error ${err}`);
  // 56 columns → 44 after the resize, of which the centre 32 (6…37) are kept; their widened bicubic kernels (±2.5
  // input pixels around centres 8.3…47.7) cover input columns 6…49.
  assert.deepEqual(zeroColumns, [0, 1, 2, 3, 4, 5, 50, 51, 52, 53, 54, 55]);
});

test("on a smooth 8-bit image, transformers' CLIPImageProcessor (PIL backend) gives the same pixel values within 2e-2 (one 8-bit level)", (t) => {
  const [err, mean] = tf.tidy(() => {
    const ours = clipPreprocess(tensorOf(io, "pil.images", "nchw") as tf.Tensor4D, { size: 32 });
    const diff = tf.abs(tf.sub(ours, tensorOf(io, "pil.pixel_values", "nchw")));
    return [tf.max(diff).dataSync()[0]!, tf.mean(diff).dataSync()[0]!];
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}, mean ${mean.toExponential(2)}`);
  assert.ok(err <= PIL_TOLERANCE, `max abs error ${err}`);
});

test("resize weights: rows sum to 1, equal sizes give the identity, and a 2× downscale widens the bicubic kernel to 8 taps", () => {
  const w = resizeWeights(64, 32, "bicubic");
  for (let i = 0; i < 32; i++) {
    const row = w.subarray(i * 64, (i + 1) * 64);
    assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  }
  assert.equal([...w.subarray(10 * 64, 11 * 64)].filter((v) => v !== 0).length, 8);
  const identity = resizeWeights(5, 5, "bicubic");
  assert.ok(identity.every((v, i) => v === (i % 6 === 0 ? 1 : 0)));
});

test("the shortest edge becomes the size and the long edge is rounded down, as CLIPImageProcessor does", () => {
  assert.deepEqual(shortestEdgeSize(512, 512, 224), [224, 224]);
  assert.deepEqual(shortestEdgeSize(512, 768, 224), [224, 336]);
  assert.deepEqual(shortestEdgeSize(700, 500, 224), [313, 224]);
});

test("an image already at the size is only normalised", () => {
  const [err] = tf.tidy(() => {
    const x = tf.randomUniform([1, 8, 8, 3], 0, 1, "float32", 3) as tf.Tensor4D;
    const expected = tf.div(tf.sub(x, [0.48145466, 0.4578275, 0.40821073]), [0.26862954, 0.26130258, 0.27577711]);
    return [maxAbsDiff(clipPreprocess(x, { size: 8 }), expected)];
  });
  assert.ok(err! < 1e-6);
});

test("wrong channel counts, sizes and resample names are refused with the value", () => {
  const grey = tf.zeros([1, 8, 8, 1]) as tf.Tensor4D;
  const rgb = tf.zeros([1, 8, 8, 3]) as tf.Tensor4D;
  assert.throws(() => clipPreprocess(grey, { size: 8 }), /images must be \[B, H, W, 3\], got \[1,8,8,1\]/);
  assert.throws(() => clipPreprocess(rgb, { size: 0 }), /size=0 must be a positive integer/);
  assert.throws(() => clipPreprocess(rgb, { size: 8, resample: "lanczos" as ClipResample }), /resample="lanczos" must be one of bicubic, bilinear/);
  tf.dispose([grey, rgb]);
});
