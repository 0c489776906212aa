/**
 * pytorch_lora_weights.safetensors: diffusers' keys and metadata, round trips in both key styles, prefixes, and
 * errors that name the keys that do not fit.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import {
  applyLoraWeights,
  decodeLoraWeights,
  encodeLoraWeights,
  loraFileEntries,
  loraWeightsOf,
  readLoraWeights,
  saveLoraWeights,
} from "../../src/io/lora-weights.js";
import { LORA_WEIGHTS_FILE } from "../../src/run/index.js";
import { decodeSafetensors, encodeSafetensors, type TensorMap } from "../../src/io/safetensors.js";
import { attachLora, DEFAULT_LORA_CONFIG, type LoraAdapters } from "../../src/models/lora.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readUNetConfig, tinyUNet } from "./tiny-unet.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** Adapters on a tiny UNet with every weight (B included) random, as after training. */
function trained(seed: number, alpha = DEFAULT_LORA_CONFIG.alpha): { unet: UNet2DConditionModel; lora: LoraAdapters } {
  const unet = tinyUNet(seed);
  const lora = attachLora(unet, { ...DEFAULT_LORA_CONFIG, alpha }, { seed });
  for (const [, p] of lora.namedParameters()) tf.tidy(() => p.tensor.assign(tf.randomNormal(p.tfShape, 0, 1, "float32", seed++)));
  return { unet, lora };
}

function fresh(seed: number): { unet: UNet2DConditionModel; lora: LoraAdapters } {
  const unet = tinyUNet(seed);
  return { unet, lora: attachLora(unet, DEFAULT_LORA_CONFIG, { seed }) };
}

const values = (lora: LoraAdapters) => lora.namedParameters().map(([k, p]) => [k, [...p.tensor.dataSync()]]);
const release = (...all: Array<{ unet: UNet2DConditionModel; lora: LoraAdapters }>) =>
  all.forEach(({ unet, lora }) => (lora.dispose(), unet.dispose()));

test("the SD1.5 file holds exactly unet.<path>.lora.{down,up}.weight for every attention projection: 256 tensors, 797,184 values", () => {
  const unet = new UNet2DConditionModel(SHAPE_ONLY, readUNetConfig("sd15-unet.config.json"));
  const entries = loraFileEntries(attachLora(unet, DEFAULT_LORA_CONFIG, { seed: 0 }));
  const keysFile = fileURLToPath(new URL("../../../test/fixtures/unet/sd15-unet.keys.txt", import.meta.url));
  const expected = readFileSync(keysFile, "utf8")
    .split("\n")
    .filter((l) => /\.(to_q|to_k|to_v|to_out\.0)\.weight\t/.test(l))
    .flatMap((l) => {
      const [key, shape] = l.split("\t") as [string, string];
      const [out, inp] = shape.split(",").map(Number) as [number, number];
      const path = key.slice(0, -".weight".length);
      return [`unet.${path}.lora.down.weight:4,${inp}`, `unet.${path}.lora.up.weight:${out},4`];
    });
  assert.equal(expected.length, 256);
  assert.deepEqual(entries.map(([k, s]) => `${k}:${s}`).sort(), expected.sort());
  assert.equal(entries.reduce((n, [, s]) => n + s[0]! * s[1]!, 0), 797_184);
  assert.ok(entries.some(([k]) => k === "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q.lora.down.weight"));
});

test("saving writes diffusers' header: format pt and the adapter config as a JSON string", async () => {
  const dir = await mkdtemp(join(tmpdir(), "lora-"));
  const a = trained(1);
  try {
    const path = join(dir, LORA_WEIGHTS_FILE);
    await saveLoraWeights(path, a.lora);
    const file = decodeSafetensors(new Uint8Array(await readFile(path)));
    assert.equal(file.metadata.format, "pt");
    assert.deepEqual(JSON.parse(file.metadata.lora_adapter_metadata!), {
      "unet.r": 4,
      "unet.lora_alpha": 4,
      "unet.target_modules": ["to_q", "to_k", "to_v", "to_out.0"],
    });
    const key = "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight";
    assert.deepEqual(file.tensors[key]!.shape, [4, 12], "A is [r, in] (cross-attention in = 12)");
    assert.deepEqual(file.tensors[key.replace("lora.down", "lora.up")]!.shape, [8, 4], "B is [out, r]");
    const b = fresh(2);
    applyLoraWeights(b.lora, await readLoraWeights(path), path);
    assert.deepEqual(values(b.lora), values(a.lora));
    release(b);
  } finally {
    release(a);
    await rm(dir, { recursive: true, force: true });
  }
});

test("a PEFT-style file (lora_A / lora_B) round-trips too", () => {
  const a = trained(3);
  const b = fresh(4);
  const weights = decodeLoraWeights(encodeLoraWeights(loraWeightsOf(a.lora), "peft"));
  applyLoraWeights(b.lora, weights);
  assert.deepEqual(values(b.lora), values(a.lora));
  release(a, b);
});

test("alpha ≠ r is folded into the up weights: the file declares lora_alpha = r and loads at the trained strength", () => {
  const a = trained(11, 8);
  const weights = decodeLoraWeights(encodeLoraWeights(loraWeightsOf(a.lora)));
  assert.equal(weights.rank, 4);
  assert.equal(weights.alpha, 4, "scale 1, which diffusers < 0.34 (no metadata) assumes too");
  const b = attachLora(tinyUNet(12), { ...DEFAULT_LORA_CONFIG, alpha: weights.alpha }, { seed: 12 });
  applyLoraWeights(b, weights);
  const delta = (lora: LoraAdapters) =>
    [...lora.layers.values()].map((l) => tf.tidy(() => [...tf.mul(tf.matMul(l.lora.down.weight.tensor, l.lora.up.weight.tensor), lora.scale).dataSync()]));
  const [trainedDelta, loadedDelta] = [delta(a.lora), delta(b)];
  let worst = 0;
  trainedDelta.forEach((d, i) => d.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - loadedDelta[i]![j]!) / (1 + Math.abs(v))))));
  assert.ok(worst < 1e-6, `scale·BA differs by ${worst}`);
  assert.ok(trainedDelta.flat().some((v) => Math.abs(v) > 1), "the update is not trivially small");
  b.dispose();
  release(a);
});

/** The file's tensors re-keyed through `rename`, with the given metadata. */
function rekeyed(lora: LoraAdapters, rename: (key: string) => string, metadata: Record<string, string> = {}): Uint8Array {
  const { tensors } = decodeSafetensors(encodeLoraWeights(loraWeightsOf(lora), "peft"));
  const out: TensorMap = {};
  for (const [k, t] of Object.entries(tensors)) out[rename(k)] = t;
  return encodeSafetensors(out, metadata);
}

for (const [what, rename] of [
  ["no prefix", (k: string) => k.slice("unet.".length)],
  ["base_model.model.", (k: string) => `base_model.model.${k.slice("unet.".length)}`],
  ["unet.base_model.model.", (k: string) => `unet.base_model.model.${k.slice("unet.".length)}`],
] as const) {
  test(`PEFT keys with ${what} load, and without metadata alpha defaults to the rank`, () => {
    const a = trained(5);
    const b = fresh(6);
    const weights = decodeLoraWeights(rekeyed(a.lora, rename));
    assert.equal(weights.rank, 4);
    assert.equal(weights.alpha, 4);
    assert.deepEqual(weights.targetModules.sort(), ["to_k", "to_out.0", "to_q", "to_v"]);
    applyLoraWeights(b.lora, weights);
    assert.deepEqual(values(b.lora), values(a.lora));
    release(a, b);
  });
}

test("loading names unknown keys, a layer missing from the file, a half layer, and a rank/alpha mismatch", () => {
  const a = trained(7);
  const b = fresh(8);
  const extra = rekeyed(a.lora, (k) => k, { format: "pt" });
  const withExtra = decodeSafetensors(extra);
  withExtra.tensors["text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight"] = { shape: [1], data: new Float32Array(1) };
  assert.throws(
    () => decodeLoraWeights(encodeSafetensors(withExtra.tensors), "x.safetensors"),
    /x\.safetensors is not a UNet LoRA file: unknown keys \(1\): text_encoder\.text_model\.encoder\.layers\.0\.self_attn\.q_proj\.lora_A\.weight/,
  );

  const first = [...a.lora.layers.keys()][0]!;
  const dropped = decodeSafetensors(extra);
  delete dropped.tensors[`unet.${first}.lora_B.weight`];
  assert.throws(() => decodeLoraWeights(encodeSafetensors(dropped.tensors)), new RegExp(`${first.replace(/\./g, "\\.")} has no up \\(B\\) weight`));

  const weights = decodeLoraWeights(extra);
  weights.layers.delete(first);
  weights.layers.set("mid_block.nothing.to_q", weights.layers.get([...weights.layers.keys()][0]!)!);
  assert.throws(() => applyLoraWeights(b.lora, weights, "f"), (e: Error) => {
    assert.match(e.message, new RegExp(`missing \\(1\\): unet\\.${first.replace(/\./g, "\\.")}\\.lora`));
    assert.match(e.message, /unexpected \(1\): unet\.mid_block\.nothing\.to_q\.lora/);
    return true;
  });

  const alpha8 = decodeLoraWeights(rekeyed(a.lora, (k) => k, { lora_adapter_metadata: JSON.stringify({ "unet.lora_alpha": 8 }) }));
  assert.throws(() => applyLoraWeights(b.lora, alpha8, "f"), /file has rank=4 alpha=8, the adapters rank=4 alpha=4/);
  release(a, b);
});

test("metadata that contradicts the tensors is refused", () => {
  const a = trained(9);
  const bytes = rekeyed(a.lora, (k) => k, { format: "pt", lora_adapter_metadata: JSON.stringify({ "unet.r": 8 }) });
  assert.throws(() => decodeLoraWeights(bytes, "m"), /m: metadata unet\.r=8 but the tensors have rank 4/);
  const broken = rekeyed(a.lora, (k) => k, { lora_adapter_metadata: "{not json" });
  assert.throws(() => decodeLoraWeights(broken, "m"), /lora_adapter_metadata is not JSON/);
  release(a);
});
