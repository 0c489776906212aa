/**
 * diffusers' VAE `Decoder` (`autoencoders/vae.py`): latents (after `post_quant_conv`) → image. Up blocks run from
 * the widest channel count back to the first, each with `layers_per_block + 1` resnets.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, type BuildContext } from "../nn/module.js";
import { Conv2d, GroupNorm } from "../nn/layers.js";
import { getUpBlock, UNetMidBlock2D, type UpDecoderBlock2D } from "./blocks.js";
import type { VaeConfig } from "./config.js";
import { silu } from "../nn/activations.js";
import { VAE_NORM_EPS } from "./resnet.js";

export class Decoder extends Module {
  readonly conv_in: Conv2d;
  readonly mid_block: UNetMidBlock2D;
  readonly up_blocks: UpDecoderBlock2D[];
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(ctx: BuildContext, config: VaeConfig) {
    super();
    const reversed = [...config.block_out_channels].reverse();
    const groups = config.norm_num_groups;
    this.conv_in = new Conv2d(ctx, config.latent_channels, reversed[0]!, 3, 1, 1);
    this.mid_block = new UNetMidBlock2D(ctx, reversed[0]!, groups, config.mid_block_add_attention);
    this.up_blocks = config.up_block_types.map((type, i) =>
      getUpBlock(ctx, type, {
        inChannels: reversed[Math.max(i - 1, 0)]!,
        outChannels: reversed[i]!,
        numLayers: config.layers_per_block + 1,
        groups,
        resample: i < reversed.length - 1,
      }),
    );
    const first = config.block_out_channels[0]!;
    this.conv_norm_out = new GroupNorm(ctx, groups, first, VAE_NORM_EPS);
    this.conv_out = new Conv2d(ctx, first, config.out_channels, 3, 1, 1);
  }

  /** z [B, h, w, latent] → images [B, h·f, w·f, Cout] with f = 2^(blocks−1) */
  forward(z: tf.Tensor4D): tf.Tensor4D {
    let h = this.conv_in.forward(z);
    h = this.mid_block.forward(h);
    for (const block of this.up_blocks) h = block.forward(h);
    return tf.tidy(() => this.conv_out.forward(silu(this.conv_norm_out.forward(h)) as tf.Tensor4D));
  }
}
