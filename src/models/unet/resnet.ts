/**
 * diffusers `resnet.py` / `downsampling.py` / `upsampling.py` for the UNet: `ResnetBlock2D` (time-conditioned
 * residual block, `time_embedding_norm = "default"`), `Downsample2D` (strided conv) and `Upsample2D` (nearest
 * neighbour then conv). Tensors are NHWC.
 */
import * as tf from "@tensorflow/tfjs";
import { upsampleNearestTo } from "../nn/upsample.js";
import { Conv2d, GroupNorm, Linear } from "../nn/layers.js";
import { checkpointed } from "../checkpointed.js";
import { Module, type BuildContext } from "../nn/module.js";
import { silu } from "../nn/activations.js";

export interface ResnetBlock2DOptions {
  inChannels: number;
  outChannels: number;
  tembChannels: number;
  /** GroupNorm groups for norm1 and norm2. */
  groups: number;
  eps: number;
  /** The sum (shortcut + residual) is divided by this. */
  outputScaleFactor: number;
}

/**
 * out = (shortcut(x) + conv2(silu(norm2(conv1(silu(norm1(x))) + time_emb_proj(silu(temb)))))) / output_scale_factor,
 * where shortcut is `conv_shortcut` (1×1) when the channel count changes and the identity otherwise. diffusers'
 * dropout sits before conv2; the config accepts only p = 0, so it is the identity here.
 */
export class ResnetBlock2D extends Module {
  readonly norm1: GroupNorm;
  readonly conv1: Conv2d;
  readonly time_emb_proj: Linear;
  readonly norm2: GroupNorm;
  readonly conv2: Conv2d;
  readonly conv_shortcut: Conv2d | undefined;
  private readonly outputScaleFactor: number;

  constructor(ctx: BuildContext, o: ResnetBlock2DOptions) {
    super();
    this.norm1 = new GroupNorm(ctx, o.groups, o.inChannels, o.eps);
    this.conv1 = new Conv2d(ctx, o.inChannels, o.outChannels, 3, 1, 1);
    this.time_emb_proj = new Linear(ctx, o.tembChannels, o.outChannels);
    this.norm2 = new GroupNorm(ctx, o.groups, o.outChannels, o.eps);
    this.conv2 = new Conv2d(ctx, o.outChannels, o.outChannels, 3, 1, 1);
    this.conv_shortcut = o.inChannels !== o.outChannels ? new Conv2d(ctx, o.inChannels, o.outChannels, 1) : undefined;
    this.outputScaleFactor = o.outputScaleFactor;
  }

  /** x [B, H, W, Cin], temb [B, T] → [B, H, W, Cout] */
  forward(x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
    return checkpointed(this, [x, temb], (x, temb) => this.block(x as tf.Tensor4D, temb as tf.Tensor2D));
  }

  private block(x: tf.Tensor4D, temb: tf.Tensor2D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = this.conv1.forward(silu(this.norm1.forward(x)) as tf.Tensor4D); // [B, H, W, Cout]
      const t = this.time_emb_proj.forward(silu(temb)); // [B, Cout]
      h = tf.add(h, tf.reshape(t, [t.shape[0]!, 1, 1, -1]));
      h = this.conv2.forward(silu(this.norm2.forward(h)) as tf.Tensor4D);
      const shortcut = this.conv_shortcut ? this.conv_shortcut.forward(x) : x;
      const sum = tf.add(shortcut, h);
      return (this.outputScaleFactor === 1 ? sum : tf.div(sum, this.outputScaleFactor)) as tf.Tensor4D;
    });
  }
}

/**
 * A 3×3 conv with stride 2. With `padding = 0` diffusers pads one zero row and column at the bottom and right
 * first (the original LDM layout); otherwise the conv pads symmetrically.
 */
export class Downsample2D extends Module {
  readonly conv: Conv2d;

  constructor(ctx: BuildContext, channels: number, outChannels: number, readonly padding: number) {
    super();
    this.conv = new Conv2d(ctx, channels, outChannels, 3, 2, padding);
  }

  /** [B, H, W, C] → [B, ⌊(H + 2p − 3)/2⌋ + 1, …, Cout] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => this.conv.forward(this.padding === 0 ? tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]) : x));
  }
}

/** Nearest-neighbour upsampling (×2, or to `outputSize`) followed by a 3×3 conv. */
export class Upsample2D extends Module {
  readonly conv: Conv2d;

  constructor(ctx: BuildContext, channels: number, outChannels: number) {
    super();
    this.conv = new Conv2d(ctx, channels, outChannels, 3, 1, 1);
  }

  /**
   * [B, H, W, C] → [B, 2H, 2W, Cout], or [B, outH, outW, Cout] when `outputSize` is given (diffusers'
   * `upsample_size`, used when the latent is not a multiple of the total downsampling factor), picking the same
   * pixels as PyTorch's `F.interpolate(mode="nearest")`.
   */
  forward(x: tf.Tensor4D, outputSize?: readonly [number, number]): tf.Tensor4D {
    return tf.tidy(() => {
      const [, h, w] = x.shape;
      const size: [number, number] = outputSize ? [outputSize[0], outputSize[1]] : [2 * h, 2 * w];
      return this.conv.forward(upsampleNearestTo(x, size[0], size[1]));
    });
  }
}
