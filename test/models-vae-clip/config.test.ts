import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CLIP_TEXT_CONFIG, validateClipTextConfig } from "../../src/models/clip/text-config.js";
import { DEFAULT_VAE_CONFIG, validateVaeConfig } from "../../src/models/vae/index.js";
import { readJson } from "./fixtures.js";

test("the published SD1.5 vae config.json parses, its extra keys such as _class_name ignored", () => {
  const config = validateVaeConfig(readJson("sd15-vae.config.json"));
  assert.deepEqual(config.block_out_channels, [128, 256, 512, 512]);
  assert.equal(config.scaling_factor, 0.18215);
  assert.equal(config.sample_size, 512);
  assert.ok(!("_class_name" in config));
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.block_out_channels));
});

test("an empty vae config is diffusers' defaults", () => {
  assert.deepEqual(validateVaeConfig({}), DEFAULT_VAE_CONFIG);
});

test("a wrong vae config names every bad field with its value in one error", () => {
  assert.throws(
    () =>
      validateVaeConfig({
        block_out_channels: [32, 48],
        down_block_types: ["DownBlock2D", "DownEncoderBlock2D"],
        up_block_types: ["UpDecoderBlock2D"],
        layers_per_block: 0,
        act_fn: "gelu",
        scaling_factor: -1,
        use_quant_conv: "yes",
      }),
    (err: Error) => {
      for (const part of [
        'block_out_channels=[32,48] has [48] not divisible by norm_num_groups=32',
        'down_block_types=["DownBlock2D","DownEncoderBlock2D"] must be 2 × "DownEncoderBlock2D"',
        'up_block_types=["UpDecoderBlock2D"] must be 2 × "UpDecoderBlock2D"',
        "layers_per_block=0 must be a positive integer",
        'act_fn="gelu" is not supported',
        "scaling_factor=-1 must be a positive finite number",
        'use_quant_conv="yes" must be true or false',
      ]) {
        assert.ok(err.message.includes(part), `missing "${part}" in:\n${err.message}`);
      }
      return true;
    },
  );
});

test("the published SD1.5 text_encoder config.json parses, keeping eos_token_id 2 and ignoring bos/pad ids", () => {
  const config = validateClipTextConfig(readJson("sd15-text_encoder.config.json"));
  assert.equal(config.hidden_size, 768);
  assert.equal(config.hidden_act, "quick_gelu");
  assert.equal(config.eos_token_id, 2);
  assert.ok(!("bos_token_id" in config) && !("architectures" in config));
});

test("an empty text config is transformers' defaults", () => {
  assert.deepEqual(validateClipTextConfig({}), DEFAULT_CLIP_TEXT_CONFIG);
});

test("a wrong text config names every bad field with its value in one error", () => {
  assert.throws(
    () => validateClipTextConfig({ hidden_size: 30, num_attention_heads: 4, hidden_act: "relu", layer_norm_eps: 0, vocab_size: 1.5, eos_token_id: -1 }),
    (err: Error) => {
      for (const part of [
        "hidden_size=30 must be divisible by num_attention_heads=4",
        'hidden_act="relu" is not supported; use one of "quick_gelu", "gelu"',
        "layer_norm_eps=0 must be a positive finite number",
        "vocab_size=1.5 must be a positive integer",
        "eos_token_id=-1 must be a non-negative integer",
      ]) {
        assert.ok(err.message.includes(part), `missing "${part}" in:\n${err.message}`);
      }
      return true;
    },
  );
});
