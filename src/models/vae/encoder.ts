/**
 * diffusers' VAE `Encoder` (`autoencoders/vae.py`, `double_z=True`): image → the 2·latent_channels moments
 * (mean ‖ logvar) before `quant_conv`.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, type BuildContext } from "../nn/module.js";
import { Conv2d, GroupNorm } from "../nn/layers.js";
import { getDownBlock, UNetMidBlock2D, type DownEncoderBlock2D } from "./blocks.js";
import type { VaeConfig } from "./config.js";
import { silu } from "../nn/activations.js";
import { VAE_NORM_EPS } from "./resnet.js";

export class Encoder extends Module {
  readonly conv_in: Conv2d;
  readonly down_blocks: DownEncoderBlock2D[];
  readonly mid_block: UNetMidBlock2D;
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  constructor(ctx: BuildContext, config: VaeConfig) {
    super();
    const channels = config.block_out_channels;
    const groups = config.norm_num_groups;
    const last = channels[channels.length - 1]!;
    this.conv_in = new Conv2d(ctx, config.in_channels, channels[0]!, 3, 1, 1);
    this.down_blocks = config.down_block_types.map((type, i) =>
      getDownBlock(ctx, type, {
        inChannels: channels[Math.max(i - 1, 0)]!,
        outChannels: channels[i]!,
        numLayers: config.layers_per_block,
        groups,
        resample: i < channels.length - 1,
      }),
    );
    this.mid_block = new UNetMidBlock2D(ctx, last, groups, config.mid_block_add_attention);
    this.conv_norm_out = new GroupNorm(ctx, groups, last, VAE_NORM_EPS);
    this.conv_out = new Conv2d(ctx, last, 2 * config.latent_channels, 3, 1, 1);
  }

  /** images [B, H, W, Cin] → moments [B, H/f, W/f, 2·latent] with f = 2^(blocks−1) */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = this.conv_in.forward(x);
    for (const block of this.down_blocks) h = block.forward(h);
    h = this.mid_block.forward(h);
    return tf.tidy(() => this.conv_out.forward(silu(this.conv_norm_out.forward(h)) as tf.Tensor4D));
  }
}
