/**
 * The UNet built shape-only from the published SD1.5 `unet/config.json` has exactly the SD1.5 checkpoint's keys and
 * PyTorch shapes (test/fixtures/unet/sd15-unet.*, listed by diffusers' UNet2DConditionModel in python/oracle/unet.py),
 * and diffusers' own tiny test UNet has diffusers' parameter count.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { Attention } from "../../src/models/unet/attention.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";
import { readJson, readKeys } from "./fixtures.js";

test("the SD1.5 UNet has exactly the 686 checkpoint keys, each with its PyTorch shape", () => {
  const model = new UNet2DConditionModel(SHAPE_ONLY, readJson("sd15-unet.config.json"));
  const expected = readKeys("sd15-unet.keys.txt");
  const actual = new Map(model.namedParameters().map(([key, p]) => [key, p.torchShape.join(",")]));
  const missing = [...expected.keys()].filter((k) => !actual.has(k));
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
  const misshaped = [...actual].filter(([k, shape]) => expected.has(k) && expected.get(k) !== shape).map(([k, s]) => `${k} [${s}]`);
  assert.deepEqual({ missing, unexpected, misshaped }, { missing: [], unexpected: [], misshaped: [] });
  assert.equal(actual.size, 686);
});

test("the SD1.5 UNet has 859,520,964 parameters and allocates none when built shape-only", () => {
  const model = new UNet2DConditionModel(SHAPE_ONLY, readJson("sd15-unet.config.json"));
  assert.equal(model.parameterCount(), 859_520_964);
  assert.ok(model.namedParameters().every(([, p]) => p.value === undefined));
});

test("SD1.5's attention_head_dim 8 means 8 heads: the first level's attention splits 320 channels into 8 heads of 40", () => {
  const model = new UNet2DConditionModel(SHAPE_ONLY, readJson("sd15-unet.config.json"));
  const attn = model.namedModules().find(([k]) => k === "down_blocks.0.attentions.0.transformer_blocks.0.attn1")![1];
  assert.ok(attn instanceof Attention);
  assert.deepEqual({ heads: attn.heads, dimHead: attn.dimHead }, { heads: 8, dimHead: 40 });
});

test("diffusers' tiny test UNet (block_out_channels [32, 64], cross_attention_dim 32) has 1,427,012 parameters", () => {
  const model = new UNet2DConditionModel(SHAPE_ONLY, {
    block_out_channels: [32, 64],
    layers_per_block: 2,
    sample_size: 32,
    in_channels: 4,
    out_channels: 4,
    down_block_types: ["DownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types: ["CrossAttnUpBlock2D", "UpBlock2D"],
    cross_attention_dim: 32,
  });
  assert.equal(model.parameterCount(), 1_427_012);
});
