/**
 * The VAE's convolution blocks (diffusers `models/resnet.py`, `downsampling.py`, `upsampling.py`), NHWC:
 * `ResnetBlock2D` without a time embedding, `Downsample2D` with the VAE's asymmetric padding, `Upsample2D`.
 * GroupNorm eps is 1e-6 everywhere in the VAE.
 */
import * as tf from "@tensorflow/tfjs";
import { upsampleNearest2x } from "../nn/upsample.js";
import { checkpointed } from "../checkpointed.js";
import { Module, type BuildContext } from "../nn/module.js";
import { Conv2d, GroupNorm } from "../nn/layers.js";
import { silu } from "../nn/activations.js";

export const VAE_NORM_EPS = 1e-6;

/** diffusers' `ResnetBlock2D` with `temb_channels=None`, `output_scale_factor=1`, pre-norm, SiLU. */
export class ResnetBlock2D extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  /** A 1×1 projection when the channel count changes. */
  readonly conv_shortcut: Conv2d | undefined;

  constructor(ctx: BuildContext, inChannels: number, outChannels: number, groups: number) {
    super();
    this.norm1 = new GroupNorm(ctx, groups, inChannels, VAE_NORM_EPS);
    this.conv1 = new Conv2d(ctx, inChannels, outChannels, 3, 1, 1);
    this.norm2 = new GroupNorm(ctx, groups, outChannels, VAE_NORM_EPS);
    this.conv2 = new Conv2d(ctx, outChannels, outChannels, 3, 1, 1);
    this.conv_shortcut = inChannels !== outChannels ? new Conv2d(ctx, inChannels, outChannels, 1) : undefined;
  }

  /** x [B, H, W, Cin] → [B, H, W, Cout] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return checkpointed(this, [x], (x) => this.block(x as tf.Tensor4D));
  }

  private block(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.conv1.forward(silu(this.norm1.forward(x)) as tf.Tensor4D);
      h = this.conv2.forward(silu(this.norm2.forward(h)) as tf.Tensor4D);
      const shortcut = this.conv_shortcut ? this.conv_shortcut.forward(x) : x;
      return tf.add(shortcut, h);
    });
  }
}

/**
 * diffusers' `Downsample2D(use_conv=True, padding=0)` as the VAE encoder builds it: pad right and bottom by one
 * (`F.pad(x, (0, 1, 0, 1))`), then a 3×3 conv with stride 2 and no padding. (The UNet's pads 1 on every side.)
 */
export class Downsample2D extends Module {
  readonly conv: Conv2d;

  constructor(ctx: BuildContext, channels: number) {
    super();
    this.conv = new Conv2d(ctx, channels, channels, 3, 2, 0);
  }

  /** x [B, H, W, C] → [B, H/2, W/2, C] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.forward(tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]))); // pad → [B, H+1, W+1, C]
  }
}

/** diffusers' `Upsample2D(use_conv=True)`: nearest-neighbour ×2, then a 3×3 conv. */
export class Upsample2D extends Module {
  readonly conv: Conv2d;

  constructor(ctx: BuildContext, channels: number) {
    super();
    this.conv = new Conv2d(ctx, channels, channels, 3, 1, 1);
  }

  /** x [B, H, W, C] → [B, 2H, 2W, C] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.forward(upsampleNearest2x(x)));
  }
}

