/**
 * What both algorithms feed the DDIM chain besides the UNet: the pipeline they train (`DiffusionComponents`), the
 * text conditioning with classifier-free guidance's negative rows, and N(0, σ²) latents from the job's generator.
 */
import * as tf from "@tensorflow/tfjs";
import type { DDIMScheduler } from "../diffusion/ddim.js";
import { latentSizeOf } from "../diffusion/differentiable-sampler.js";
import { encodePrompts, initialLatents } from "../diffusion/pipeline-sample.js";
import type { CLIPTextModel } from "../models/clip/text-model.js";
import type { CLIPTokenizer } from "../models/clip/tokenizer.js";
import type { LoraAdapters } from "../models/lora.js";
import type { UNet2DConditionModel } from "../models/unet/unet-2d-condition.js";
import type { AutoencoderKL } from "../models/vae/autoencoder-kl.js";
import type { Rng } from "../util/rng.js";

export interface DiffusionComponents {
  /** The UNet with `lora` attached (`attachLora`); only the adapters train. */
  unet: UNet2DConditionModel;
  lora: LoraAdapters;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  tokenizer: CLIPTokenizer;
  scheduler: DDIMScheduler;
}

export class Conditioning {
  /** The negative prompt's embedding [1, T, D], encoded once (TRL's `neg_prompt_embed`). */
  private readonly negativeEmbedding: tf.Tensor3D;
  /** Latent [height, width]: the UNet's sample_size. */
  private readonly latentSize: [number, number];

  constructor(
    private readonly c: DiffusionComponents,
    negativePrompt: string,
    algorithm: string,
  ) {
    this.latentSize = latentSizeOf(c.unet, algorithm);
    this.negativeEmbedding = encodePrompts(c, [negativePrompt]);
  }

  /** The prompts' text embeddings [B, T, D] (no gradient reaches the text encoder). */
  encode(prompts: readonly string[]): tf.Tensor3D {
    return encodePrompts(this.c, prompts);
  }

  /** [negative × B; embeds] [2B, T, D] when guided, else the embeds [B, T, D]. */
  context(embeds: tf.Tensor3D, guided: boolean): tf.Tensor3D {
    if (!guided) return embeds;
    return tf.tidy(() => tf.concat([tf.tile(this.negativeEmbedding, [embeds.shape[0], 1, 1]), embeds]));
  }

  /** N(0, σ²) latents [b, h, w, C] from `rng`: x_T (σ = init_noise_sigma) and each step's z (σ = 1). */
  normal(rng: Rng, b: number, sigma = 1): tf.Tensor4D {
    return initialLatents([b, ...this.latentSize, this.c.unet.config.in_channels], rng, sigma);
  }

  dispose(): void {
    this.negativeEmbedding.dispose();
  }
}
