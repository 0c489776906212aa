/** ViT-L/14 (openai/clip-vit-large-patch14's config) built shape-only: keys, shapes and counts as PyTorch has them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CLIPModel, validateClipModelConfig } from "../../src/models/clip/clip-model.js";
import { clipVisionConfigOf } from "../../src/models/clip/vision-config.js";
import { CLIPVisionModelWithProjection, isVisionKey } from "../../src/models/clip/vision-model.js";
import { SHAPE_ONLY, type Module } from "../../src/models/nn/module.js";
import { readJson, readKeys } from "./fixtures.js";

const shapes = (m: Module) => new Map(m.namedParameters().map(([k, p]) => [k, [...p.torchShape]]));

function assertSameKeysAndShapes(model: Module, expected: Map<string, number[]>) {
  const got = shapes(model);
  assert.deepEqual([...got.keys()].filter((k) => !expected.has(k)), [], "keys the model has but PyTorch lacks");
  assert.deepEqual([...expected.keys()].filter((k) => !got.has(k)), [], "PyTorch keys the model lacks");
  for (const [key, shape] of expected) assert.deepEqual(got.get(key), shape, key);
}

const config = () => readJson("vit-l-14.config.json");
const allKeys = () => readKeys("vit-l-14.keys.txt");

test("the ViT-L/14 vision tower with its projection has exactly PyTorch's 392 keys and shapes", () => {
  const vision = new CLIPVisionModelWithProjection(SHAPE_ONLY, clipVisionConfigOf(config()));
  const expected = new Map([...allKeys()].filter(([key]) => isVisionKey(key)));
  assertSameKeysAndShapes(vision, expected);
  assert.equal(vision.namedParameters().length, 392);
});

test("the ViT-L/14 vision tower has 303,179,776 parameters, 303,966,208 with visual_projection", () => {
  const vision = new CLIPVisionModelWithProjection(SHAPE_ONLY, clipVisionConfigOf(config()));
  assert.equal(vision.vision_model.parameterCount(), 303_179_776);
  assert.equal(vision.parameterCount(), 303_966_208);
});

test("the ViT-L/14 CLIPModel has PyTorch's 590 keys and 427,616,513 parameters", () => {
  const clip = new CLIPModel(SHAPE_ONLY, validateClipModelConfig(config()));
  assertSameKeysAndShapes(clip, allKeys());
  assert.equal(clip.namedParameters().length, 590);
  assert.equal(clip.parameterCount(), 427_616_513);
});

test("a CLIPConfig's top-level projection_dim sizes visual_projection, and *_config_dict values override", () => {
  const vision = clipVisionConfigOf({ projection_dim: 64, vision_config: { hidden_size: 32, num_attention_heads: 4, projection_dim: 8 }, vision_config_dict: { patch_size: 16 } });
  assert.equal(vision.projection_dim, 64);
  assert.equal(vision.patch_size, 16);
  assert.equal(vision.hidden_size, 32);
  assert.equal(clipVisionConfigOf({ model_type: "clip_vision_model", projection_dim: 8 }).projection_dim, 8);
});

test("an invalid vision config names every wrong field and its value", () => {
  assert.throws(
    () => clipVisionConfigOf({ hidden_size: 30, num_attention_heads: 4, image_size: 224, patch_size: 15, hidden_act: "relu", layer_norm_eps: 0 }),
    (e: Error) =>
      /hidden_size=30 must be divisible by num_attention_heads=4/.test(e.message) &&
      /image_size=224 must be a multiple of patch_size=15/.test(e.message) &&
      /hidden_act="relu" is not supported/.test(e.message) &&
      /layer_norm_eps=0 must be a positive finite number/.test(e.message),
  );
  assert.throws(() => validateClipModelConfig({ vision_config: {} }), /needs "text_config" and "vision_config"; got the keys vision_config/);
});
