import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../src/io/safetensors.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { loadStateDict } from "../../src/models/nn/state-dict.js";
import { VaeAttention } from "../../src/models/vae/attention.js";
import { AutoencoderKL, loadVaeStateDict, validateVaeConfig } from "../../src/models/vae/index.js";
import { maxAbsDiff, readTensors, tensorOf } from "./fixtures.js";

/** Against diffusers' AutoencoderKL in float64 (python/oracle/vae.py); the largest error seen is 1.4e-6. */
const TOLERANCE = 1e-5;
/** The config python/oracle/vae.py builds. */
const TINY = validateVaeConfig({
  block_out_channels: [8, 16],
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D"],
  norm_num_groups: 4,
  layers_per_block: 1,
  latent_channels: 4,
});

let io: TensorMap;
let vae: AutoencoderKL;

before(async () => {
  await tf.setBackend("cpu");
  io = await readTensors("vae-io.safetensors");
  vae = new AutoencoderKL(SHAPE_ONLY, TINY);
  loadVaeStateDict(vae, await readTensors("vae.safetensors"), "vae.safetensors");
});

const nhwc = (key: string) => tensorOf(io, key, "nchw") as tf.Tensor4D;

test("the mid-block attention matches the diffusers within 1e-5", async (t) => {
  const attention = new VaeAttention(SHAPE_ONLY, 16, 4);
  loadStateDict(attention, await readTensors("vae-attention.safetensors"));
  const err = tf.tidy(() => maxAbsDiff(attention.forward(nhwc("attention.input")), nhwc("attention.output")));
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  attention.dispose();
});

test("encode matches the diffusers mean and logvar within 1e-5 on 16×12 images", (t) => {
  const [meanErr, logvarErr] = tf.tidy(() => {
    const { mean, logvar } = vae.encode(nhwc("encode.images"));
    assert.deepEqual(mean.shape, [2, 8, 6, 4]);
    return [maxAbsDiff(mean, nhwc("encode.mean")), maxAbsDiff(logvar, nhwc("encode.logvar"))];
  });
  t.diagnostic(`max abs error mean ${meanErr.toExponential(2)}, logvar ${logvarErr.toExponential(2)}`);
  assert.ok(meanErr <= TOLERANCE && logvarErr <= TOLERANCE, `mean ${meanErr}, logvar ${logvarErr}`);
});

test("decode matches the diffusers images within 1e-5", (t) => {
  const err = tf.tidy(() => {
    const images = vae.decode(nhwc("decode.latents"));
    assert.deepEqual(images.shape, [2, 16, 12, 3]);
    return maxAbsDiff(images, nhwc("decode.images"));
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
});

test("weights saved with the old query/key/value/proj_attn names and [C, C, 1, 1] shapes decode the same", async () => {
  const old = new AutoencoderKL(SHAPE_ONLY, TINY);
  loadVaeStateDict(old, await readTensors("vae-old-keys.safetensors"));
  const err = tf.tidy(() => maxAbsDiff(old.decode(nhwc("decode.latents")), nhwc("decode.images")));
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  old.dispose();
});

test("the gradient of mean(decoded²) reaches the latents and matches diffusers' autograd within 1e-5", (t) => {
  const [err, norm] = tf.tidy(() => {
    const latents = nhwc("decode.latents");
    const [grad] = tf.grads((z: tf.Tensor) => tf.mean(tf.square(vae.decode(z as tf.Tensor4D))))([latents]);
    return [maxAbsDiff(grad!, nhwc("decode.grad_mean_square")), tf.norm(grad!).dataSync()[0]!];
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}, gradient norm ${norm.toExponential(2)}`);
  assert.ok(norm > 0 && Number.isFinite(norm), `gradient norm ${norm}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
});

test("the gradient of mean(encoded mean²) reaches the images and matches diffusers' autograd within 1e-5", (t) => {
  const [err, norm] = tf.tidy(() => {
    const images = nhwc("encode.images");
    const [grad] = tf.grads((x: tf.Tensor) => tf.mean(tf.square(vae.encode(x as tf.Tensor4D).mean)))([images]);
    return [maxAbsDiff(grad!, nhwc("encode.grad_mean_square")), tf.norm(grad!).dataSync()[0]!];
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}, gradient norm ${norm.toExponential(2)}`);
  assert.ok(norm > 0 && Number.isFinite(norm), `gradient norm ${norm}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
});

test("encode and decode inside tf.tidy leave the tensor count unchanged", () => {
  const images = nhwc("encode.images");
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    const { mean } = vae.encode(images);
    vae.decode(mean);
  });
  assert.equal(tf.memory().numTensors, start);
  images.dispose();
});

test("encode and decode called outside tf.tidy leave only their outputs behind", () => {
  const images = nhwc("encode.images");
  const start = tf.memory().numTensors;
  const { mean, logvar } = vae.encode(images);
  assert.equal(tf.memory().numTensors, start + 2);
  const decoded = vae.decode(mean);
  assert.equal(tf.memory().numTensors, start + 3);
  tf.dispose([mean, logvar, decoded, images]);
});
