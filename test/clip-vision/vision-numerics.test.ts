/** The tiny CLIP vision tower and CLIPModel against transformers' own, run in float64 (python/oracle/clip_vision.py). */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../src/io/safetensors.js";
import { CLIPModel, loadClipModelStateDict, validateClipModelConfig } from "../../src/models/clip/clip-model.js";
import type { ClipHiddenAct } from "../../src/models/clip/text-config.js";
import { validateClipVisionConfig } from "../../src/models/clip/vision-config.js";
import { CLIPVisionModelWithProjection, loadClipVisionStateDict } from "../../src/models/clip/vision-model.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { maxAbsDiff, readTensors, tensorOf, TINY_TEXT, TINY_VISION } from "./fixtures.js";

const TOLERANCE = 1e-5;

let io: TensorMap;
let weights: TensorMap;
let clipIo: TensorMap;
let clipWeights: TensorMap;

before(async () => {
  await tf.setBackend("cpu");
  io = await readTensors("vision-io.safetensors");
  weights = await readTensors("vision.safetensors");
  clipIo = await readTensors("clip-io.safetensors");
  clipWeights = await readTensors("clip.safetensors");
});

function tinyVision(act: ClipHiddenAct): CLIPVisionModelWithProjection {
  const model = new CLIPVisionModelWithProjection(SHAPE_ONLY, validateClipVisionConfig({ ...TINY_VISION, hidden_act: act }));
  loadClipVisionStateDict(model, weights);
  return model;
}

for (const act of ["quick_gelu", "gelu"] as ClipHiddenAct[]) {
  test(`the tiny vision tower with ${act} matches transformers' last_hidden_state, pooled output and image embeds within 1e-5`, (t) => {
    const model = tinyVision(act);
    const errors = tf.tidy(() => {
      const out = model.forward(tensorOf(io, "pixel_values", "nchw") as tf.Tensor4D);
      assert.deepEqual(out.lastHiddenState.shape, [2, 17, 32]);
      assert.deepEqual(out.imageEmbeds.shape, [2, 16]);
      return [
        maxAbsDiff(out.lastHiddenState, tensorOf(io, `last_hidden_state.${act}`)),
        maxAbsDiff(out.pooledOutput, tensorOf(io, `pooled_output.${act}`)),
        maxAbsDiff(out.imageEmbeds, tensorOf(io, `image_embeds.${act}`)),
      ];
    });
    t.diagnostic(`max abs errors ${errors.map((e) => e.toExponential(2)).join(", ")}`);
    for (const err of errors) assert.ok(err <= TOLERANCE, `max abs error ${err}`);
    model.dispose();
  });
}

test("the tiny CLIPModel's normalised embeddings and logits_per_image match transformers within 1e-5", (t) => {
  const config = validateClipModelConfig({ projection_dim: 16, text_config: TINY_TEXT, vision_config: TINY_VISION });
  const model = new CLIPModel(SHAPE_ONLY, config);
  loadClipModelStateDict(model, clipWeights);
  const errors = tf.tidy(() => {
    const ids = tf.cast(tensorOf(clipIo, "ids"), "int32") as tf.Tensor2D;
    const out = model.forward(tensorOf(clipIo, "pixel_values", "nchw") as tf.Tensor4D, ids);
    assert.deepEqual(out.logitsPerImage.shape, [3, 2]);
    return [
      maxAbsDiff(out.imageEmbeds, tensorOf(clipIo, "image_embeds")),
      maxAbsDiff(out.textEmbeds, tensorOf(clipIo, "text_embeds")),
      maxAbsDiff(out.logitsPerImage, tensorOf(clipIo, "logits_per_image")),
    ];
  });
  t.diagnostic(`max abs errors ${errors.map((e) => e.toExponential(2)).join(", ")}`);
  for (const err of errors) assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  model.dispose();
});

test("a CLIPModel checkpoint's vision half loads into the vision tower once the other keys are set aside", () => {
  const model = new CLIPVisionModelWithProjection(SHAPE_ONLY, validateClipVisionConfig(TINY_VISION));
  assert.throws(() => loadClipVisionStateDict(model, clipWeights), /unexpected \(\d+\): .*text_model\.embeddings\.token_embedding\.weight/);
  const vision = Object.fromEntries(Object.entries(clipWeights).filter(([key]) => key.startsWith("vision_model.") || key.startsWith("visual_projection.")));
  loadClipVisionStateDict(model, vision);
  model.dispose();
});

test("the vision forward rejects pixel values of another size, naming image_size", () => {
  const model = tinyVision("quick_gelu");
  const wrong = tf.zeros([1, 24, 24, 3]) as tf.Tensor4D;
  assert.throws(() => model.forward(wrong), /pixel values must be \[B, 32, 32, 3\] \(image_size=32\), got \[1,24,24,3\]/);
  wrong.dispose();
  model.dispose();
});

test("the vision forward inside tf.tidy leaves the tensor count unchanged, and outside it leaves only its three outputs", () => {
  const model = tinyVision("quick_gelu");
  const px = tensorOf(io, "pixel_values", "nchw") as tf.Tensor4D;
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    model.forward(px);
  });
  assert.equal(tf.memory().numTensors, start);
  const out = model.forward(px);
  assert.equal(tf.memory().numTensors, start + 3);
  tf.dispose([out.imageEmbeds, out.lastHiddenState, out.pooledOutput, px]);
  model.dispose();
});
