/** validateUNetConfig: diffusers' defaults, real config.json files, and one clear line per unsupported field. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_UNET_CONFIG, perBlock, validateUNetConfig } from "../../src/models/unet/config.js";
import { readJson } from "./fixtures.js";

const rejects = (raw: unknown, message: RegExp) => assert.throws(() => validateUNetConfig(raw), message);

test("an empty object gives diffusers' defaults, frozen all the way down", () => {
  const config = validateUNetConfig({});
  assert.deepEqual(config, DEFAULT_UNET_CONFIG);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.block_out_channels));
});

test("the published SD1.5 config.json is accepted, its bookkeeping keys (_class_name, _diffusers_version) ignored", () => {
  const config = validateUNetConfig(readJson("sd15-unet.config.json"));
  assert.equal(config.attention_head_dim, 8);
  assert.equal(config.cross_attention_dim, 768);
  assert.equal("_class_name" in config, false);
});

test("SD2-style keys are accepted: per-block attention_head_dim, linear projections, upcast_attention, neutral extras", () => {
  const config = validateUNetConfig({
    attention_head_dim: [5, 10, 20, 20],
    use_linear_projection: true,
    upcast_attention: true,
    cross_attention_dim: 1024,
    dual_cross_attention: false,
    only_cross_attention: [false, false, false, false],
    num_attention_heads: null,
    class_embed_type: null,
    some_future_option: "anything",
  });
  assert.deepEqual(config.attention_head_dim, [5, 10, 20, 20]);
  assert.equal(config.use_linear_projection, true);
});

test("a key that switches on a part this model does not build is an error naming the key, the value and what is supported", () => {
  rejects({ only_cross_attention: true }, /only_cross_attention=true: only false is supported/);
  rejects({ dual_cross_attention: true }, /dual_cross_attention=true: only false is supported/);
  rejects({ class_embed_type: "timestep" }, /class_embed_type="timestep": only null is supported/);
  rejects({ mid_block_type: "UNetMidBlock2DSimpleCrossAttn" }, /mid_block_type="UNetMidBlock2DSimpleCrossAttn"/);
  rejects({ num_attention_heads: 8 }, /num_attention_heads=8: only null/);
  rejects({ dropout: 0.1 }, /dropout=0.1: only 0 is supported/);
});

test("wrong values of supported keys are errors naming the field and value", () => {
  rejects({ down_block_types: ["AttnDownBlock2D", "DownBlock2D", "DownBlock2D", "DownBlock2D"] }, /down_block_types=\["AttnDownBlock2D"/);
  rejects({ up_block_types: ["UpBlock2D"] }, /up_block_types=\["UpBlock2D"\]: must have one entry per down block \(4\)/);
  rejects({ block_out_channels: [320, 640, 1280] }, /block_out_channels=\[320,640,1280\]: must be 4 positive integers/);
  rejects({ block_out_channels: [320, 640, 1280, 1000] }, /1000 not divisible by norm_num_groups=32/);
  rejects({ attention_head_dim: [8, 8] }, /attention_head_dim=\[8,8\]: must be a positive integer or a list of 4/);
  rejects({ attention_head_dim: 7 }, /attention_head_dim=7: 7 heads do not divide block_out_channels\[0\]=320/);
  rejects({ act_fn: "gelu" }, /act_fn="gelu"/);
  rejects({ conv_in_kernel: 2 }, /conv_in_kernel=2: must be a positive odd integer/);
  rejects({ norm_eps: 0 }, /norm_eps=0: must be a positive number/);
  rejects("unet", /UNet config must be an object, got "unet"/);
});

test("every problem is reported at once", () => {
  assert.throws(
    () => validateUNetConfig({ in_channels: 0, flip_sin_to_cos: "yes", dual_cross_attention: true }),
    (e: Error) => ["in_channels=0", 'flip_sin_to_cos="yes"', "dual_cross_attention=true"].every((s) => e.message.includes(s)),
  );
});

test("perBlock repeats a single value per block and copies a list", () => {
  assert.deepEqual(perBlock(8, 3), [8, 8, 8]);
  assert.deepEqual(perBlock([1, 2], 2), [1, 2]);
});
