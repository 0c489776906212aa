/**
 * LoRA adapters on the UNet: targets found by module path, zero-init equals the base, only adapters train,
 * merge/unmerge, and TRL's SD1.5 counts on the shape-only model.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { attachLora, DEFAULT_LORA_CONFIG, LoraLinear, matchesTarget } from "../../src/models/lora.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";
import { readUNetConfig, tinyUNet } from "./tiny-unet.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** A fixed input for the tiny UNet: 8×8 latents, 5 context tokens. */
function run(unet: UNet2DConditionModel): Float32Array {
  return tf.tidy(() => {
    const sample = tf.randomNormal([2, 8, 8, 4], 0, 1, "float32", 11) as tf.Tensor4D;
    const context = tf.randomNormal([2, 5, 12], 0, 1, "float32", 12) as tf.Tensor3D;
    return unet.forward(sample, 500, context).dataSync() as Float32Array;
  });
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

/** Gives every B (lora.up) random values, as training would. */
function perturbUp(unet: UNet2DConditionModel, seed: number): void {
  for (const [key, p] of unet.namedModules().flatMap(([path, m]) => (m instanceof LoraLinear ? m.lora.namedParameters(path) : []))) {
    if (key.endsWith("up.weight")) tf.tidy(() => p.tensor.assign(tf.randomNormal(p.tfShape, 0, 0.3, "float32", seed++)));
  }
}

test("the SD1.5 UNet with TRL's targets gets 128 adapted Linear layers and 797,184 LoRA parameters at r=4", () => {
  const unet = new UNet2DConditionModel(SHAPE_ONLY, readUNetConfig("sd15-unet.config.json"));
  const before = unet.namedParameters().map(([k, p]) => `${k}:${p.torchShape}`);
  const lora = attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 0 });
  assert.equal(lora.layers.size, 128);
  assert.equal(lora.namedParameters().length, 256);
  assert.equal(lora.parameterCount(), 797_184);
  assert.deepEqual(unet.namedParameters().map(([k, p]) => `${k}:${p.torchShape}`), before, "the UNet's own keys are unchanged");
  const [key, down] = lora.namedParameters()[0]!;
  assert.equal(key, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora.down.weight");
  assert.deepEqual(down.torchShape, [4, 320]);
});

test("a freshly adapted UNet computes exactly what the base UNet computes (B starts at zero)", () => {
  const unet = tinyUNet(1);
  const base = run(unet);
  const lora = attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 3 });
  assert.deepEqual(run(unet), base);
  lora.dispose();
  unet.dispose();
});

test("A is drawn N(0, 1/r²) from the seed and B is zero", () => {
  const real = tinyUNet(2);
  const lora = attachLora(real, { ...DEFAULT_LORA_CONFIG, rank: 2, alpha: 8 }, { seed: 5 });
  assert.equal(lora.scale, 4);
  const downs = lora.namedParameters().filter(([k]) => k.endsWith("down.weight")).flatMap(([, p]) => [...p.tensor.dataSync()]);
  const ups = lora.namedParameters().filter(([k]) => k.endsWith("up.weight")).flatMap(([, p]) => [...p.tensor.dataSync()]);
  const mean = downs.reduce((a, b) => a + b, 0) / downs.length;
  const std = Math.sqrt(downs.reduce((a, b) => a + (b - mean) ** 2, 0) / downs.length);
  assert.ok(Math.abs(std - 0.5) < 0.05, `std ${std} ≈ 1/r = 0.5 over ${downs.length} values`);
  assert.ok(ups.every((x) => x === 0));
  const again = tinyUNet(2);
  const same = attachLora(again, { ...DEFAULT_LORA_CONFIG, rank: 2, alpha: 8 }, { seed: 5 });
  assert.deepEqual(same.namedParameters()[0]![1].tensor.dataSync(), lora.namedParameters()[0]![1].tensor.dataSync());
  for (const m of [lora, same]) m.dispose();
  for (const m of [real, again]) m.dispose();
});

test("only the LoRA variables are trainable, and a loss has gradients for them", () => {
  const unet = tinyUNet(4);
  const lora = attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 1 });
  assert.ok(unet.namedParameters().every(([, p]) => !p.tensor.trainable), "base weights stay frozen");
  const vars = lora.trainableVariables();
  assert.equal(vars.length, 2 * lora.layers.size);
  assert.ok(vars.every((v) => v.trainable));
  const { grads } = tf.variableGrads(() => {
    const sample = tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", 1) as tf.Tensor4D;
    const context = tf.randomNormal([1, 5, 12], 0, 1, "float32", 2) as tf.Tensor3D;
    return tf.mean(tf.square(unet.forward(sample, 10, context))) as tf.Scalar;
  }, vars);
  const norm = (key: string) => tf.tidy(() => tf.norm(grads[vars[lora.namedParameters().findIndex(([k]) => k === key)]!.name]!).dataSync()[0]!);
  const path = [...lora.layers.keys()][0]!;
  assert.ok(norm(`${path}.lora.up.weight`) > 0, "B gets a gradient");
  assert.equal(norm(`${path}.lora.down.weight`), 0, "A's gradient is zero while B is zero");
  tf.dispose(grads);
  lora.dispose();
  unet.dispose();
});

test("merging gives the adapted outputs (≤ 1e-5) and unmerging restores the base weights bit for bit", (t) => {
  const unet = tinyUNet(6);
  const lora = attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 2 });
  perturbUp(unet, 100);
  const baseWeights = [...lora.layers.values()].map((l) => l.weight.tensor.dataSync().slice());
  const adapted = run(unet);
  lora.merge();
  assert.ok(lora.merged);
  const merged = run(unet);
  const err = maxAbsDiff(merged, adapted);
  t.diagnostic(`merged vs adapted: max abs diff ${err.toExponential(2)}`);
  assert.ok(err <= 1e-5, `merged output differs by ${err}`);
  lora.unmerge();
  assert.deepEqual(run(unet), adapted, "unmerged output equals the adapted one exactly");
  assert.equal(lora.merged, false);
  [...lora.layers.values()].forEach((l, i) => assert.deepEqual(l.weight.tensor.dataSync(), baseWeights[i]));
  lora.dispose();
  unet.dispose();
});

test("lora_scale 0 runs the base UNet exactly, 0.5 half the update (merged or not), and withLoraScale restores the scale", () => {
  const unet = tinyUNet(7);
  const base = run(unet);
  const lora = attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 3 });
  perturbUp(unet, 200);
  const adapted = run(unet);
  assert.deepEqual(lora.withLoraScale(0, () => run(unet)), base);
  const half = lora.withLoraScale(0.5, () => run(unet));
  assert.deepEqual(run(unet), adapted, "the scale is restored");
  // The update is linear in B: halving every B gives the same outputs as lora_scale 0.5.
  const ups = [...lora.layers.values()].map((l) => l.lora.up.weight.tensor);
  const saved = ups.map((u) => u.clone());
  ups.forEach((u) => tf.tidy(() => u.assign(tf.mul(u, 0.5))));
  assert.ok(maxAbsDiff(half, run(unet)) <= 1e-6);
  ups.forEach((u, i) => u.assign(saved[i]!));
  lora.setLoraScale(0.5);
  lora.merge();
  assert.ok(maxAbsDiff(run(unet), half) <= 1e-5, "merged at 0.5");
  assert.throws(() => lora.setLoraScale(1), /merged into its layer; unmerge it before changing lora_scale/);
  lora.unmerge();
  assert.throws(() => lora.setLoraScale(Number.NaN), /lora_scale=NaN must be a finite number/);
  tf.dispose(saved);
  lora.dispose();
  unet.dispose();
});

test("target matching follows peft: the whole path or a dotted suffix", () => {
  assert.ok(matchesTarget("mid_block.attentions.0.transformer_blocks.0.attn2.to_out.0", ["to_out.0"]));
  assert.ok(matchesTarget("to_q", ["to_q"]));
  assert.ok(!matchesTarget("x.to_qq", ["to_q"]));
  assert.ok(!matchesTarget("x.attn1.to_out.0", ["out.0"]));
});

test("attaching names a target that matches nothing, a non-Linear target, and a layer adapted twice", () => {
  const unet = new UNet2DConditionModel(SHAPE_ONLY, readUNetConfig("tiny-unet-sd15/config.json"));
  assert.throws(() => attachLora(unet, { ...DEFAULT_LORA_CONFIG, targetModules: ["to_q", "to_z"] }, { seed: 0 }), /no module matches target "to_z"/);
  assert.throws(() => attachLora(unet, { ...DEFAULT_LORA_CONFIG, targetModules: ["conv_in"] }, { seed: 0 }), /conv_in is a Conv2d, not a Linear/);
  assert.throws(() => attachLora(unet, { ...DEFAULT_LORA_CONFIG, rank: 0 }, { seed: 0 }), /rank=0 must be a positive integer/);
  attachLora(unet, { ...DEFAULT_LORA_CONFIG, targetModules: ["attn1.to_q"] }, { seed: 0 });
  assert.throws(() => attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 0 }), /attn1\.to_q already has a LoRA adapter/);
});

test("adapters release their variables on dispose and leave the base parameters alone", () => {
  const unet = tinyUNet(8);
  const start = tf.memory().numTensors;
  const lora = attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 0 });
  lora.merge();
  lora.dispose();
  assert.equal(tf.memory().numTensors, start);
  unet.dispose();
});
