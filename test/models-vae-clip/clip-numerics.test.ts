import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../src/io/safetensors.js";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { loadStateDict } from "../../src/models/nn/state-dict.js";
import { validateClipTextConfig, type ClipHiddenAct } from "../../src/models/clip/text-config.js";
import { causalMask, CLIPEncoderLayer } from "../../src/models/clip/text-encoder-layer.js";
import { CLIPTextModel, loadClipTextStateDict } from "../../src/models/clip/text-model.js";
import { maxAbsDiff, readTensors, tensorOf } from "./fixtures.js";

/** Against transformers' CLIPTextModel in float64 (python/oracle/clip_text.py); the largest error seen is 6e-7. */
const TOLERANCE = 1e-5;
/** diffusers' tiny test text encoder, as python/oracle/clip_text.py builds it. */
const TINY = { hidden_size: 32, intermediate_size: 37, num_attention_heads: 4, num_hidden_layers: 5, vocab_size: 1000, eos_token_id: 2 };

let io: TensorMap;
let weights: TensorMap;

before(async () => {
  await tf.setBackend("cpu");
  io = await readTensors("clip-io.safetensors");
  weights = await readTensors("clip-text.safetensors");
});

function tinyModel(eosTokenId: number): CLIPTextModel {
  const model = new CLIPTextModel(SHAPE_ONLY, validateClipTextConfig({ ...TINY, eos_token_id: eosTokenId }));
  loadClipTextStateDict(model, weights);
  return model;
}

const ids = () => tf.cast(tensorOf(io, "text.ids"), "int32") as tf.Tensor2D;

for (const act of ["quick_gelu", "gelu"] as ClipHiddenAct[]) {
  test(`an encoder layer with ${act} and the causal mask matches transformers within 1e-5`, async (t) => {
    const layer = new CLIPEncoderLayer(SHAPE_ONLY, validateClipTextConfig({ ...TINY, hidden_act: act }));
    loadStateDict(layer, await readTensors(`clip-layer-${act}.safetensors`));
    const err = tf.tidy(() => {
      const x = tensorOf(io, "layer.input") as tf.Tensor3D;
      return maxAbsDiff(layer.forward(x, causalMask(x.shape[1])), tensorOf(io, `layer.output.${act}`));
    });
    t.diagnostic(`max abs error ${err.toExponential(2)}`);
    assert.ok(err <= TOLERANCE, `max abs error ${err}`);
    layer.dispose();
  });
}

test("the tiny text model's last_hidden_state [2, 77, 32] matches transformers within 1e-5", (t) => {
  const model = tinyModel(2);
  const err = tf.tidy(() => {
    const { lastHiddenState } = model.forward(ids());
    assert.deepEqual(lastHiddenState.shape, [2, 77, 32]);
    return maxAbsDiff(lastHiddenState, tensorOf(io, "text.last_hidden_state"));
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  model.dispose();
});

test("with eos_token_id 2 the pooled output is taken at the first argmax of the ids, as transformers does", (t) => {
  const model = tinyModel(2);
  const err = tf.tidy(() => maxAbsDiff(model.forward(ids()).pooledOutput, tensorOf(io, "text.pooled.eos2")));
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  model.dispose();
});

test("with another eos_token_id the pooled output is taken at its first occurrence", (t) => {
  const model = tinyModel(500);
  const [err, againstArgmax] = tf.tidy(() => {
    const { pooledOutput } = model.forward(ids());
    return [maxAbsDiff(pooledOutput, tensorOf(io, "text.pooled.eos500")), maxAbsDiff(pooledOutput, tensorOf(io, "text.pooled.eos2"))];
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
  assert.ok(againstArgmax > 1e-2, "the two pooling rules pick different positions in this fixture");
  model.dispose();
});

test("the position_ids buffer in a checkpoint is ignored, while any other unexpected key is named in the error", () => {
  assert.ok("text_model.embeddings.position_ids" in weights);
  const model = new CLIPTextModel(SHAPE_ONLY, validateClipTextConfig(TINY));
  const extra = { ...weights, "text_model.embeddings.token_type_ids": { shape: [1], data: new Float32Array(1) } };
  assert.throws(() => loadClipTextStateDict(model, extra), /unexpected \(1\): text_model\.embeddings\.token_type_ids/);
});

test("forward rejects float ids and sequences longer than max_position_embeddings, naming the shape", () => {
  const model = new CLIPTextModel(SHAPE_ONLY, validateClipTextConfig({ ...TINY, max_position_embeddings: 8 }));
  const long = tf.zeros([1, 9], "int32") as tf.Tensor2D;
  const floats = tf.zeros([1, 4]) as tf.Tensor2D;
  assert.throws(() => model.forward(long), /int32 \[B, T ≤ 8\], got int32 \[1,9\]/);
  assert.throws(() => model.forward(floats), /got float32 \[1,4\]/);
  tf.dispose([long, floats]);
});

test("forward inside tf.tidy leaves the tensor count unchanged, and outside it leaves only its two outputs", () => {
  const model = tinyModel(2);
  const input = ids();
  const start = tf.memory().numTensors;
  tf.tidy(() => {
    model.forward(input);
  });
  assert.equal(tf.memory().numTensors, start);
  const out = model.forward(input);
  assert.equal(tf.memory().numTensors, start + 2);
  tf.dispose([out.lastHiddenState, out.pooledOutput, input]);
  model.dispose();
});
