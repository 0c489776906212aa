/**
 * diffusers' `AutoencoderKL`: `encode` maps images to a diagonal Gaussian over latents, `decode` maps latents back.
 *
 * Scaling is the caller's job, as in diffusers pipelines: the UNet works on `mean · scaling_factor` (or a sample),
 * and `decode` wants `latents / scaling_factor`. Images are NHWC in [-1, 1]; pipelines show `clip((x + 1) / 2, 0, 1)`.
 *
 * `decode` is differentiable (AlignProp backpropagates a reward through it). The gradient tape keeps every op's saved
 * tensors, about 1.2 GB above the weights for one 64×64 SD1.5 image and growing with the pixel count, so 512×512
 * needs gradient checkpointing around the up blocks.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, type BuildContext } from "../nn/module.js";
import { Conv2d } from "../nn/layers.js";
import type { VaeConfig } from "./config.js";
import { Decoder } from "./decoder.js";
import { Encoder } from "./encoder.js";

/** diffusers' `DiagonalGaussianDistribution` parameters, each [B, h, w, latent_channels]. */
export interface LatentDistribution {
  mean: tf.Tensor4D;
  /** Clamped to [-30, 20] as diffusers does. */
  logvar: tf.Tensor4D;
}

export class AutoencoderKL extends Module {
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  /** 1×1 conv on the moments; absent when `use_quant_conv` is false. */
  readonly quant_conv: Conv2d | undefined;
  /** 1×1 conv on the latents before decoding; absent when `use_post_quant_conv` is false. */
  readonly post_quant_conv: Conv2d | undefined;

  constructor(ctx: BuildContext, readonly config: VaeConfig) {
    super();
    const latent = config.latent_channels;
    this.encoder = new Encoder(ctx, config);
    this.decoder = new Decoder(ctx, config);
    this.quant_conv = config.use_quant_conv ? new Conv2d(ctx, 2 * latent, 2 * latent, 1) : undefined;
    this.post_quant_conv = config.use_post_quant_conv ? new Conv2d(ctx, latent, latent, 1) : undefined;
  }

  /** How many times smaller than the image the latents are: 2^(blocks−1) (8 for SD1.5). */
  get downscale(): number {
    return 2 ** (this.config.block_out_channels.length - 1);
  }

  /** images [B, H, W, 3] in [-1, 1] → {mean, logvar} [B, H/f, W/f, latent] */
  encode(images: tf.Tensor4D): LatentDistribution {
    return tf.tidy(() => {
      let moments = this.encoder.forward(images); // [B, h, w, 2·latent]
      if (this.quant_conv) moments = this.quant_conv.forward(moments);
      const [mean, logvar] = tf.split(moments, 2, 3) as [tf.Tensor4D, tf.Tensor4D];
      return { mean, logvar: tf.clipByValue(logvar, -30, 20) };
    });
  }

  /** latents [B, h, w, latent] (already divided by scaling_factor) → images [B, h·f, w·f, 3], roughly [-1, 1] */
  decode(latents: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const z = this.post_quant_conv ? this.post_quant_conv.forward(latents) : latents;
      return this.decoder.forward(z);
    });
  }
}
