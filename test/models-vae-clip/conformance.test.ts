import assert from "node:assert/strict";
import { test } from "node:test";
import { SHAPE_ONLY, type Module } from "../../src/models/nn/module.js";
import { AutoencoderKL, validateVaeConfig } from "../../src/models/vae/index.js";
import { validateClipTextConfig } from "../../src/models/clip/text-config.js";
import { CLIPTextModel } from "../../src/models/clip/text-model.js";
import { readJson, readKeys } from "./fixtures.js";

const shapes = (m: Module) => new Map(m.namedParameters().map(([k, p]) => [k, [...p.torchShape]]));
const sum = (m: Module, keep: (key: string) => boolean) =>
  m.namedParameters().reduce((n, [k, p]) => (keep(k) ? n + p.size : n), 0);

function assertSameKeysAndShapes(model: Module, expected: Map<string, number[]>) {
  const got = shapes(model);
  assert.deepEqual([...got.keys()].filter((k) => !expected.has(k)), [], "keys the model has but SD1.5 lacks");
  assert.deepEqual([...expected.keys()].filter((k) => !got.has(k)), [], "SD1.5 keys the model lacks");
  for (const [key, shape] of expected) assert.deepEqual(got.get(key), shape, key);
}

test("the SD1.5 vae config builds exactly the 248 published keys with their PyTorch shapes", () => {
  const vae = new AutoencoderKL(SHAPE_ONLY, validateVaeConfig(readJson("sd15-vae.config.json")));
  assertSameKeysAndShapes(vae, readKeys("sd15-vae.keys.txt"));
  assert.equal(vae.namedParameters().length, 248);
});

test("the SD1.5 vae has 83,653,863 parameters, 49,490,199 of them on the decode path", () => {
  const vae = new AutoencoderKL(SHAPE_ONLY, validateVaeConfig(readJson("sd15-vae.config.json")));
  assert.equal(vae.parameterCount(), 83_653_863);
  assert.equal(sum(vae, (k) => k.startsWith("decoder.") || k.startsWith("post_quant_conv.")), 49_490_199);
  assert.equal(vae.downscale, 8);
});

test("the SD1.5 text_encoder config builds exactly the 196 published keys with their PyTorch shapes", () => {
  const clip = new CLIPTextModel(SHAPE_ONLY, validateClipTextConfig(readJson("sd15-text_encoder.config.json")));
  assertSameKeysAndShapes(clip, readKeys("sd15-text_encoder.keys.txt"));
  assert.equal(clip.namedParameters().length, 196);
  assert.equal(clip.parameterCount(), 123_060_480);
});

test("diffusers' tiny test vae ([32, 64], latent 4, other keys default) has 658,375 parameters", () => {
  const config = validateVaeConfig({
    block_out_channels: [32, 64],
    in_channels: 3,
    out_channels: 3,
    down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D"],
    up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D"],
    latent_channels: 4,
  });
  assert.equal(new AutoencoderKL(SHAPE_ONLY, config).parameterCount(), 658_375);
});

test("diffusers' tiny test text encoder (hidden 32, intermediate 37, 4 heads, 5 layers, vocab 1000) has 68,473 parameters", () => {
  const config = validateClipTextConfig({
    bos_token_id: 0,
    eos_token_id: 2,
    hidden_size: 32,
    intermediate_size: 37,
    layer_norm_eps: 1e-5,
    num_attention_heads: 4,
    num_hidden_layers: 5,
    pad_token_id: 1,
    vocab_size: 1000,
  });
  assert.equal(new CLIPTextModel(SHAPE_ONLY, config).parameterCount(), 68_473);
});

test("a vae without quant convs or mid attention drops exactly those keys", () => {
  const base = { block_out_channels: [32, 64], down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D"], up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D"] };
  const full = shapes(new AutoencoderKL(SHAPE_ONLY, validateVaeConfig(base)));
  const bare = shapes(
    new AutoencoderKL(SHAPE_ONLY, validateVaeConfig({ ...base, use_quant_conv: false, use_post_quant_conv: false, mid_block_add_attention: false })),
  );
  const dropped = [...full.keys()].filter((k) => !bare.has(k));
  assert.ok([...bare.keys()].every((k) => full.has(k)));
  assert.deepEqual(dropped.filter((k) => !/quant_conv|\.attentions\.0\./.test(k)), []);
  assert.equal(dropped.length, 4 + 2 * 10);
});
