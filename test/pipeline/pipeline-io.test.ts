/** savePipeline → loadPipeline round trips, the checkpoint conventions the loader accepts, and its errors. */
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { encodeSafetensors, readSafetensors, type TensorMap } from "../../src/io/safetensors.js";
import { stateDict } from "../../src/models/nn/state-dict.js";
import { disposePipeline, loadPipeline, savePipeline, type Pipeline } from "../../src/models/pipeline.js";
import { TINY_UNET, tinyPipeline } from "./tiny.js";

let root: string;
let saved: string;
let original: Pipeline;

before(async () => {
  await tf.setBackend("cpu");
  root = await mkdtemp(join(tmpdir(), "alignprop-pipeline-"));
  original = await tinyPipeline(7);
  saved = join(root, "tiny");
  await savePipeline(saved, original);
});
after(async () => {
  disposePipeline(original);
  await rm(root, { recursive: true, force: true });
});

/** A copy of the saved pipeline to damage or convert. */
async function copy(name: string): Promise<string> {
  const dir = join(root, name);
  await cp(saved, dir, { recursive: true });
  return dir;
}

const readJson = async (path: string) => JSON.parse(await readFile(path, "utf8")) as Record<string, unknown>;

function assertSameWeights(a: Pipeline, b: Pipeline, tolerance = 0) {
  for (const component of ["unet", "vae", "textEncoder"] as const) {
    const want = stateDict(a[component]);
    const got = stateDict(b[component]);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), component);
    for (const [key, t] of Object.entries(want)) {
      const diff = t.data.reduce((m, v, i) => Math.max(m, Math.abs(v - got[key]!.data[i]!)), 0);
      assert.ok(diff <= tolerance, `${component} ${key}: max abs difference ${diff} > ${tolerance}`);
    }
  }
}

test("savePipeline writes diffusers' layout: model_index.json, configs with _class_name, F32 safetensors, tokenizer, scheduler", async () => {
  const files = (await readdir(saved, { recursive: true })).sort();
  assert.deepEqual(files, [
    "model_index.json",
    "scheduler",
    "scheduler/scheduler_config.json",
    "text_encoder",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "tokenizer",
    "tokenizer/merges.txt",
    "tokenizer/special_tokens_map.json",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "unet",
    "unet/config.json",
    "unet/diffusion_pytorch_model.safetensors",
    "vae",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
  ]);
  const index = await readJson(join(saved, "model_index.json"));
  assert.deepEqual(index.unet, ["diffusers", "UNet2DConditionModel"]);
  assert.deepEqual(index.text_encoder, ["transformers", "CLIPTextModel"]);
  assert.equal((await readJson(join(saved, "unet/config.json")))._class_name, "UNet2DConditionModel");
  assert.deepEqual((await readJson(join(saved, "unet/config.json"))).block_out_channels, [8, 16]);
  assert.equal((await readJson(join(saved, "vae/config.json")))._class_name, "AutoencoderKL");
  assert.deepEqual((await readJson(join(saved, "text_encoder/config.json"))).architectures, ["CLIPTextModel"]);
  assert.equal((await readJson(join(saved, "scheduler/scheduler_config.json")))._class_name, "DDIMScheduler");
  const unet = await readSafetensors(join(saved, "unet/diffusion_pytorch_model.safetensors"));
  assert.deepEqual(unet.tensors["conv_in.weight"]!.shape, [8, 4, 3, 3], "PyTorch layout");
  assert.equal(Object.keys(unet.tensors).length, original.unet.namedParameters().length);
});

test("a saved pipeline loads back with identical weights, configs, tokenizer and scheduler", async () => {
  const loaded = await loadPipeline(saved);
  try {
    assertSameWeights(original, loaded);
    assert.deepEqual(loaded.unet.config, original.unet.config);
    assert.deepEqual(loaded.vae.config, original.vae.config);
    assert.deepEqual(loaded.textEncoder.config, original.textEncoder.config);
    assert.deepEqual(loaded.scheduler.config, original.scheduler.config);
    assert.deepEqual(loaded.tokenizer.encode("a photo of a cat"), original.tokenizer.encode("a photo of a cat"));
    assert.deepEqual(loaded.config.tokenizerFiles, original.config.tokenizerFiles);
  } finally {
    disposePipeline(loaded);
  }
});

test("saving over an existing folder is refused", async () => {
  await assert.rejects(savePipeline(saved, original), /already exists/);
});

/** IEEE half-precision bits of a float (round to nearest even, no subnormal care needed for these weights). */
function toHalf(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  let half = sign | (exp << 10) | ((x >>> 13) & 0x3ff);
  const rest = x & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return half;
}

/** A safetensors file with every tensor stored as F16, plus I64 tensors (what fp16 diffusers / transformers files hold). */
function encodeF16(tensors: TensorMap, ints: Record<string, number[]> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = new Uint8Array(new Uint16Array(Array.from(t.data, toHalf)).buffer);
    header[name] = { dtype: "F16", shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  for (const [name, values] of Object.entries(ints)) {
    const bytes = new Uint8Array(new BigInt64Array(values.map(BigInt)).buffer);
    header[name] = { dtype: "I64", shape: [1, values.length], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

test("F16 weights, CLIP's position_ids buffer and the VAE's old attention names load as diffusers loads them", async () => {
  const dir = await copy("converted");
  const clip = join(dir, "text_encoder/model.safetensors");
  const positions = Array.from({ length: 77 }, (_, i) => i);
  await writeFile(clip, encodeF16((await readSafetensors(clip)).tensors, { "text_model.embeddings.position_ids": positions }));
  const vaePath = join(dir, "vae/diffusion_pytorch_model.safetensors");
  const old: TensorMap = {};
  const names: Record<string, string> = { to_q: "query", to_k: "key", to_v: "value", "to_out.0": "proj_attn" };
  for (const [key, t] of Object.entries((await readSafetensors(vaePath)).tensors)) {
    old[key.replace(/attentions\.0\.(to_q|to_k|to_v|to_out\.0)\./, (_, n: string) => `attentions.0.${names[n]}.`)] = t;
  }
  assert.ok("decoder.mid_block.attentions.0.query.weight" in old);
  await writeFile(vaePath, encodeSafetensors(old));

  const loaded = await loadPipeline(dir);
  try {
    assertSameWeights(original, loaded, 2e-3);
  } finally {
    disposePipeline(loaded);
  }
});

test("only fp16-variant weights load; with both present, variant picks which; a component without the variant uses its plain file", async () => {
  const dir = await copy("variants");
  const unet = join(dir, "unet/diffusion_pytorch_model.safetensors");
  const halfPath = join(dir, "unet/diffusion_pytorch_model.fp16.safetensors");
  await writeFile(halfPath, encodeF16((await readSafetensors(unet)).tensors));
  await rename(unet, join(root, "unet-fp32.safetensors"));
  const onlyHalf = await loadPipeline(dir);
  disposePipeline(onlyHalf);

  const fp32 = (await readSafetensors(join(root, "unet-fp32.safetensors"))).tensors;
  const zeroed = Object.fromEntries(Object.entries(fp32).map(([k, t]) => [k, { shape: t.shape, data: new Float32Array(t.data.length) }]));
  await writeFile(unet, encodeSafetensors(zeroed));
  const plain = await loadPipeline(dir);
  const half = await loadPipeline(dir, { variant: "fp16" });
  try {
    assert.equal(stateDict(plain.unet)["conv_in.weight"]!.data[0], 0, "no variant asked: the plain file");
    assert.notEqual(stateDict(half.unet)["conv_in.weight"]!.data[0], 0, "variant fp16: the .fp16 file");
  } finally {
    disposePipeline(plain);
    disposePipeline(half);
  }
  const fallback = await loadPipeline(dir, { variant: "bf16" });
  try {
    assert.equal(stateDict(fallback.unet)["conv_in.weight"]!.data[0], 0, "no bf16 file: the plain one");
  } finally {
    disposePipeline(fallback);
  }
});

test("a missing tensor is named with its component and file", async () => {
  const dir = await copy("missing-key");
  const path = join(dir, "unet/diffusion_pytorch_model.safetensors");
  const tensors = (await readSafetensors(path)).tensors;
  delete tensors["mid_block.attentions.0.proj_in.weight"];
  await writeFile(path, encodeSafetensors(tensors));
  await assert.rejects(loadPipeline(dir), (error: Error) => {
    assert.match(error.message, /^unet weights .*unet\/diffusion_pytorch_model\.safetensors does not match the model/);
    assert.match(error.message, /missing \(1\): mid_block\.attentions\.0\.proj_in\.weight/);
    return true;
  });
});

test("a wrong shape, a bad config, a foreign class, pickle-only weights and mismatched components give errors naming them", async () => {
  const shaped = await copy("wrong-shape");
  const clip = join(shaped, "text_encoder/model.safetensors");
  const tensors = (await readSafetensors(clip)).tensors;
  tensors["text_model.final_layer_norm.weight"] = { shape: [17], data: new Float32Array(17) };
  await writeFile(clip, encodeSafetensors(tensors));
  await assert.rejects(loadPipeline(shaped), /text_encoder weights [^]*wrong shape \(1\): text_model\.final_layer_norm\.weight: file \[17\] vs model \[16\]/);

  const config = await copy("bad-config");
  await writeFile(join(config, "unet/config.json"), JSON.stringify({ ...TINY_UNET, norm_num_groups: 3 }));
  await assert.rejects(loadPipeline(config), /unet\/config\.json: UNet config is not supported:[^]*not divisible by norm_num_groups=3/);

  const foreign = await copy("foreign");
  const index = await readJson(join(foreign, "model_index.json"));
  await writeFile(join(foreign, "model_index.json"), JSON.stringify({ ...index, unet: ["diffusers", "UNet2DModel"] }));
  await assert.rejects(loadPipeline(foreign), /model_index\.json: unet class "UNet2DModel" is not supported; expected UNet2DConditionModel/);

  const pickle = await copy("pickle");
  await rename(join(pickle, "vae/diffusion_pytorch_model.safetensors"), join(pickle, "vae/diffusion_pytorch_model.bin"));
  await assert.rejects(loadPipeline(pickle), /vae: only PyTorch pickle weights \(.*\.bin\); alignprop reads safetensors/);

  const mismatch = await copy("mismatch");
  const textConfig = await readJson(join(mismatch, "text_encoder/config.json"));
  await writeFile(join(mismatch, "text_encoder/config.json"), JSON.stringify({ ...textConfig, vocab_size: 100 }));
  const textPath = join(mismatch, "text_encoder/model.safetensors");
  const text = (await readSafetensors(textPath)).tensors;
  text["text_model.embeddings.token_embedding.weight"] = { shape: [100, 16], data: new Float32Array(1600) };
  await writeFile(textPath, encodeSafetensors(text));
  await assert.rejects(loadPipeline(mismatch), /do not fit together:[^]*tokenizer eos id 873 is outside text_encoder vocab_size=100/);

  await assert.rejects(loadPipeline(join(root, "nowhere", "x")), /is neither a folder nor a Hub repo id/);
});
