/** A tiny random Stable Diffusion pipeline (16×16 images) built in memory from small configs, for this area's tests. */
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { DDIMScheduler } from "../../src/diffusion/ddim.js";
import { validateClipTextConfig } from "../../src/models/clip/text-config.js";
import { CLIPTextModel } from "../../src/models/clip/text-model.js";
import { CLIPTokenizer } from "../../src/models/clip/tokenizer.js";
import type { BuildContext, ParamRole } from "../../src/models/nn/module.js";
import { modelIndexJson, type Pipeline } from "../../src/models/pipeline.js";
import { UNet2DConditionModel } from "../../src/models/unet/index.js";
import { AutoencoderKL, validateVaeConfig } from "../../src/models/vae/index.js";

/** dist/test/pipeline/ → test/fixtures/tokenizer/tiny/ (the tokenizer area's tiny trained vocabulary). */
export const TOKENIZER_DIR = fileURLToPath(new URL("../../../test/fixtures/tokenizer/tiny/", import.meta.url));
/** dist/test/pipeline/ → test/fixtures/pipeline/ */
export const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/pipeline/", import.meta.url));

export const TINY_UNET = {
  sample_size: 8,
  block_out_channels: [8, 16],
  layers_per_block: 1,
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  cross_attention_dim: 16,
  attention_head_dim: 2,
  norm_num_groups: 4,
};
/** Two blocks: 16×16 images ↔ 8×8 latents. */
export const TINY_VAE = { block_out_channels: [8, 8], down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D"], up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D"], norm_num_groups: 4, sample_size: 16 };
export const TINY_TEXT = { hidden_size: 16, intermediate_size: 32, num_attention_heads: 2, num_hidden_layers: 2 };

/** Seeded random weights: weights ~ N(0, 1/fan_in), biases and norm shifts ~ N(0, 0.1²), embeddings ~ N(0, 0.5²). */
export function randomContext(seed: number): BuildContext {
  let next = seed;
  return {
    shapeOnly: false,
    init: (shape: number[], role: ParamRole) => {
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = role === "weight" ? 1 / Math.sqrt(fanIn) : role === "embedding" ? 0.5 : 0.1;
      return tf.randomNormal(shape, 0, std, "float32", next++);
    },
  };
}

export function tokenizerFiles(): Record<string, string> {
  return Object.fromEntries(readdirSync(TOKENIZER_DIR).map((name) => [name, readFileSync(TOKENIZER_DIR + name, "utf8")]));
}

export async function tinyPipeline(seed = 1): Promise<Pipeline> {
  const ctx = randomContext(seed);
  const tokenizer = await CLIPTokenizer.fromFiles(TOKENIZER_DIR);
  const vocab = Object.keys(JSON.parse(tokenizerFiles()["vocab.json"]!) as object).length;
  return {
    unet: new UNet2DConditionModel(ctx, TINY_UNET),
    vae: new AutoencoderKL(ctx, validateVaeConfig(TINY_VAE)),
    textEncoder: new CLIPTextModel(ctx, validateClipTextConfig({ ...TINY_TEXT, vocab_size: vocab, eos_token_id: tokenizer.eosTokenId })),
    tokenizer,
    scheduler: new DDIMScheduler(),
    config: { modelIndex: modelIndexJson(), tokenizerFiles: tokenizerFiles() },
  };
}
