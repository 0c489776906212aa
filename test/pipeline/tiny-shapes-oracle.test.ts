/**
 * The embedded default, models/tiny-shapes, component by component against diffusers and transformers: the same
 * files loaded by UNet2DConditionModel, AutoencoderKL and CLIPTextModel.from_pretrained (no missing, unexpected or
 * mismatched key) and run in float64 by python/oracle/tiny_shapes.py → test/fixtures/tiny-shapes/.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../src/io/safetensors.js";
import { embeddedModel, TINY_SHAPES } from "../../src/models/embedded.js";
import { disposePipeline, loadPipeline, type Pipeline } from "../../src/models/pipeline.js";
import { fixtureArea, maxAbsDiff, tensorOf } from "../helpers/fixtures.js";

/** The trained weights give larger activations than random ones (|unet output| ≈ 3); the largest error seen is 1.9e-6. */
const TOLERANCE = 1e-5;
/** The oracle's prompts: the second is cut to the 16 tokens the text encoder takes. */
const PROMPTS = ["a red circle", "a large blue square in the top left corner on a green background"];

let io: TensorMap;
let pipeline: Pipeline;

before(async () => {
  await tf.setBackend("cpu");
  io = await fixtureArea("tiny-shapes").readTensors("components.safetensors");
  pipeline = await loadPipeline(embeddedModel(TINY_SHAPES)!.dir);
});
after(() => disposePipeline(pipeline));

test("the tokenizer gives transformers' CLIPTokenizer ids for the oracle's prompts, truncation included", () => {
  const { ids } = pipeline.tokenizer.batch(PROMPTS);
  assert.deepEqual([...ids], [...io["text.ids"]!.data]);
});

test("the text encoder's last_hidden_state matches transformers' CLIPTextModel within 1e-5", (t) => {
  const err = tf.tidy(() => {
    const ids = tf.cast(tensorOf(io, "text.ids"), "int32") as tf.Tensor2D;
    return maxAbsDiff(pipeline.textEncoder.forward(ids).lastHiddenState, tensorOf(io, "text.last_hidden_state"));
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
});

test("the UNet's noise prediction at t = 501 matches diffusers' UNet2DConditionModel within 1e-5", (t) => {
  const err = tf.tidy(() => {
    const latents = tensorOf(io, "unet.latents", "nchw") as tf.Tensor4D;
    const states = tensorOf(io, "text.last_hidden_state") as tf.Tensor3D;
    const timestep = io["unet.timestep"]!.data[0]!;
    return maxAbsDiff(pipeline.unet.forward(latents, timestep, states), tensorOf(io, "unet.output", "nchw"));
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
});

test("the VAE decode matches diffusers' AutoencoderKL within 1e-5", (t) => {
  const err = tf.tidy(() => {
    const images = pipeline.vae.decode(tensorOf(io, "unet.latents", "nchw") as tf.Tensor4D);
    return maxAbsDiff(images, tensorOf(io, "vae.images", "nchw"));
  });
  t.diagnostic(`max abs error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `max abs error ${err}`);
});
