/** The sampling chain on a tiny random pipeline: sizes, determinism, guidance, η, decoding, memory, input errors. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { decodeLatents, encodePrompts, guidedNoise, sample, type SampleOptions } from "../../src/diffusion/pipeline-sample.js";
import { disposePipeline, type Pipeline } from "../../src/models/pipeline.js";
import { tinyPipeline } from "./tiny.js";

let p: Pipeline;
before(async () => {
  await tf.setBackend("cpu");
  p = await tinyPipeline(3);
});
after(() => disposePipeline(p));

const base: SampleOptions = { prompts: ["a red circle"], steps: 2, guidanceScale: 5, seed: 0 };

/** The images of one run as plain numbers (tensors disposed). */
function render(opts: Partial<SampleOptions> = {}): { shape: number[]; values: Float32Array } {
  const { images, latents } = sample(p, { ...base, ...opts });
  const out = { shape: images.shape, values: images.dataSync() as Float32Array };
  images.dispose();
  latents.dispose();
  return out;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test("sampling renders one [16, 16, 3] image per prompt in [0, 1] by default (sample_size 8 × VAE downscale 2)", () => {
  const { shape, values } = render({ prompts: ["a red circle", "a blue square"] });
  assert.deepEqual(shape, [2, 16, 16, 3]);
  assert.ok(values.every((v) => v >= 0 && v <= 1));
  assert.ok(maxDiff(values.subarray(0, 768), values.subarray(768)) > 0, "two prompts, two different images");
  assert.deepEqual(render({ height: 8, width: 24 }).shape, [1, 8, 24, 3]);
});

test("the same seed gives identical images; another seed gives other images", () => {
  const a = render({ seed: 11 });
  assert.deepEqual(render({ seed: 11 }).values, a.values);
  assert.ok(maxDiff(render({ seed: 12 }).values, a.values) > 1e-3);
});

test("η > 0 adds seeded noise: reproducible per seed, different from η = 0", () => {
  const noisy = render({ eta: 1, seed: 5 });
  assert.deepEqual(render({ eta: 1, seed: 5 }).values, noisy.values);
  assert.ok(maxDiff(render({ eta: 0, seed: 5 }).values, noisy.values) > 1e-3);
});

test("guidance scale and negative prompt change the image; scale ≤ 1 ignores the negative prompt", () => {
  const guided = render();
  assert.ok(maxDiff(render({ guidanceScale: 9 }).values, guided.values) > 1e-4);
  assert.ok(maxDiff(render({ negativePrompts: "a blue square" }).values, guided.values) > 1e-4);
  const plain = render({ guidanceScale: 1 });
  assert.deepEqual(render({ guidanceScale: 1, negativePrompts: "a blue square" }).values, plain.values);
});

test("guidedNoise is ε_u + w·(ε_c − ε_u) with the unconditional rows first, and the plain prediction at w ≤ 1", () => {
  tf.tidy(() => {
    const latents = tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", 1) as tf.Tensor4D;
    const uncond = encodePrompts(p, [""]);
    const cond = encodePrompts(p, ["a red circle"]);
    const epsU = p.unet.forward(latents, 501, uncond);
    const epsC = p.unet.forward(latents, 501, cond);
    const want = tf.add(epsU, tf.mul(7, tf.sub(epsC, epsU)));
    const got = guidedNoise(p.unet, latents, 501, tf.concat([uncond, cond]), 7);
    assert.ok(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]! < 1e-5);
    assert.deepEqual(guidedNoise(p.unet, latents, 501, cond, 1).dataSync(), epsC.dataSync());
  });
});

test("decodeLatents decodes latents / scaling_factor and maps [-1, 1] to [0, 1]", () => {
  tf.tidy(() => {
    const latents = tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", 2) as tf.Tensor4D;
    const decoded = p.vae.decode(tf.div(latents, p.vae.config.scaling_factor));
    const want = tf.clipByValue(tf.div(tf.add(decoded, 1), 2), 0, 1);
    assert.ok(tf.max(tf.abs(tf.sub(decodeLatents(p.vae, latents), want))).dataSync()[0]! < 1e-6);
  });
});

test("sampling leaves no tensors behind but the two it returns", () => {
  render();
  const before = tf.memory().numTensors;
  const { images, latents } = sample(p, base);
  assert.equal(tf.memory().numTensors, before + 2);
  images.dispose();
  latents.dispose();
  assert.throws(() => sample(p, { ...base, eta: 2 }), /eta=2 must be in \[0, 1\]/);
  assert.equal(tf.memory().numTensors, before, "a failing step frees what it allocated");
});

test("bad inputs are named: image size, negative prompt count, empty prompts, steps", () => {
  assert.throws(() => sample(p, { ...base, height: 15 }), /height=15 must be a positive multiple of 2/);
  assert.throws(() => sample(p, { ...base, negativePrompts: ["x", "y"] }), /negativePrompts has 2 entries but there are 1 prompts/);
  assert.throws(() => sample(p, { ...base, prompts: [] }), /prompts is empty/);
  assert.throws(() => sample(p, { ...base, steps: 0 }), /num_inference_steps=0/);
});
