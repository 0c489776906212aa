/**
 * The VAE mid-block attention: diffusers' `Attention(heads=1, dim_head=C, norm_num_groups, residual_connection=True,
 * rescale_output_factor=1)` as built for `UNetMidBlock2D`. Self-attention over all H·W positions with one head.
 */
import * as tf from "@tensorflow/tfjs";
import { checkpointed } from "../checkpointed.js";
import { Module, type BuildContext } from "../nn/module.js";
import { scaledDotProductAttention } from "../nn/attention.js";
import { GroupNorm, Linear } from "../nn/layers.js";
import { VAE_NORM_EPS } from "./resnet.js";

export class VaeAttention extends Module {
  readonly group_norm: GroupNorm;
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_v: Linear;
  /** `to_out.1` is a Dropout in diffusers: no parameters, identity at inference. */
  readonly to_out: [Linear];

  constructor(ctx: BuildContext, readonly channels: number, groups: number) {
    super();
    this.group_norm = new GroupNorm(ctx, groups, channels, VAE_NORM_EPS);
    this.to_q = new Linear(ctx, channels, channels);
    this.to_k = new Linear(ctx, channels, channels);
    this.to_v = new Linear(ctx, channels, channels);
    this.to_out = [new Linear(ctx, channels, channels)];
  }

  /** x [B, H, W, C] → x + attention(group_norm(x)), [B, H, W, C] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return checkpointed(this, [x], (x) => this.block(x as tf.Tensor4D));
  }

  private block(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w, c] = x.shape;
      const tokens = tf.reshape(this.group_norm.forward(x), [b, h * w, c]); // [B, N, C]
      // The 1/√C scale on Q ([B, N, C]) rather than on the [B, N, N] scores: the same product, less work.
      const q = tf.mul(this.to_q.forward(tokens), 1 / Math.sqrt(c)) as tf.Tensor3D; // [B, N, C]
      const k = this.to_k.forward(tokens) as tf.Tensor3D;
      const v = this.to_v.forward(tokens) as tf.Tensor3D;
      const attended = scaledDotProductAttention(q, k, v); // [B, N, C]
      return tf.add(tf.reshape(this.to_out[0].forward(attended), [b, h, w, c]), x);
    });
  }
}
