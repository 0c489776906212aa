/** The wasm backend (the default without tfjs-node) gives the reference numbers too, including the decode gradient. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { SHAPE_ONLY } from "../../src/models/nn/module.js";
import { validateClipTextConfig } from "../../src/models/clip/text-config.js";
import { CLIPTextModel, loadClipTextStateDict } from "../../src/models/clip/text-model.js";
import { AutoencoderKL, loadVaeStateDict, validateVaeConfig } from "../../src/models/vae/index.js";
import { initBackend } from "../../src/tf/backend.js";
import { maxAbsDiff, readTensors, tensorOf } from "./fixtures.js";

const TOLERANCE = 1e-4;

before(async () => {
  await initBackend("wasm");
});

test("on wasm, decode and its gradient with respect to the latents match diffusers within 1e-4", async () => {
  const io = await readTensors("vae-io.safetensors");
  const vae = new AutoencoderKL(
    SHAPE_ONLY,
    validateVaeConfig({
      block_out_channels: [8, 16],
      down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D"],
      up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D"],
      norm_num_groups: 4,
    }),
  );
  loadVaeStateDict(vae, await readTensors("vae.safetensors"));
  const [imageErr, gradErr] = tf.tidy(() => {
    const latents = tensorOf(io, "decode.latents", "nchw") as tf.Tensor4D;
    const [grad] = tf.grads((z: tf.Tensor) => tf.mean(tf.square(vae.decode(z as tf.Tensor4D))))([latents]);
    return [
      maxAbsDiff(vae.decode(latents), tensorOf(io, "decode.images", "nchw")),
      maxAbsDiff(grad!, tensorOf(io, "decode.grad_mean_square", "nchw")),
    ];
  });
  assert.ok(imageErr <= TOLERANCE && gradErr <= TOLERANCE, `images ${imageErr}, gradient ${gradErr}`);
  vae.dispose();
});

test("on wasm, the text model's hidden states and pooled output match transformers within 1e-4", async () => {
  const io = await readTensors("clip-io.safetensors");
  const config = { hidden_size: 32, intermediate_size: 37, num_attention_heads: 4, num_hidden_layers: 5, vocab_size: 1000, eos_token_id: 2 };
  const clip = new CLIPTextModel(SHAPE_ONLY, validateClipTextConfig(config));
  loadClipTextStateDict(clip, await readTensors("clip-text.safetensors"));
  const [hiddenErr, pooledErr] = tf.tidy(() => {
    const { lastHiddenState, pooledOutput } = clip.forward(tf.cast(tensorOf(io, "text.ids"), "int32") as tf.Tensor2D);
    return [maxAbsDiff(lastHiddenState, tensorOf(io, "text.last_hidden_state")), maxAbsDiff(pooledOutput, tensorOf(io, "text.pooled.eos2"))];
  });
  assert.ok(hiddenErr <= TOLERANCE && pooledErr <= TOLERANCE, `hidden ${hiddenErr}, pooled ${pooledErr}`);
  clip.dispose();
});
