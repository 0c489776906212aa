/**
 * diffusers `Transformer2DModel` for continuous (latent) input: GroupNorm, project in, flatten the H×W positions
 * into a sequence, run the `BasicTransformerBlock`s against the text states, project out, add the input back.
 */
import * as tf from "@tensorflow/tfjs";
import { Conv2d, GroupNorm, Linear } from "../nn/layers.js";
import { checkpointed } from "../checkpointed.js";
import { Module, type BuildContext } from "../nn/module.js";
import { BasicTransformerBlock } from "./attention.js";

export interface Transformer2DModelOptions {
  inChannels: number;
  heads: number;
  dimHead: number;
  numLayers: number;
  normNumGroups: number;
  crossAttentionDim: number;
  /** `proj_in`/`proj_out` are `Linear` (SD2.x) instead of 1×1 `Conv2d` (SD1.x); the same map, stored differently. */
  useLinearProjection: boolean;
}

export class Transformer2DModel extends Module {
  readonly norm: GroupNorm;
  readonly proj_in: Conv2d | Linear;
  readonly transformer_blocks: BasicTransformerBlock[];
  readonly proj_out: Conv2d | Linear;

  constructor(ctx: BuildContext, o: Transformer2DModelOptions) {
    super();
    const inner = o.heads * o.dimHead;
    // diffusers fixes this eps at 1e-6, whatever the UNet's norm_eps.
    this.norm = new GroupNorm(ctx, o.normNumGroups, o.inChannels, 1e-6);
    this.proj_in = o.useLinearProjection ? new Linear(ctx, o.inChannels, inner) : new Conv2d(ctx, o.inChannels, inner, 1);
    const block = { dim: inner, heads: o.heads, dimHead: o.dimHead, crossAttentionDim: o.crossAttentionDim };
    this.transformer_blocks = Array.from({ length: o.numLayers }, () => new BasicTransformerBlock(ctx, block));
    this.proj_out = o.useLinearProjection ? new Linear(ctx, inner, o.inChannels) : new Conv2d(ctx, inner, o.inChannels, 1);
  }

  /** x [B, H, W, C], context [B, M, crossAttentionDim] → [B, H, W, C] */
  forward(x: tf.Tensor4D, context: tf.Tensor3D): tf.Tensor4D {
    return checkpointed(this, [x, context], (x, context) => this.block(x as tf.Tensor4D, context as tf.Tensor3D));
  }

  private block(x: tf.Tensor4D, context: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w] = x.shape;
      // In NHWC a 1×1 conv and a Linear over the channel axis are the same map.
      let hidden = this.proj_in.forward(this.norm.forward(x) as tf.Tensor4D); // [B, H, W, inner]
      let seq = tf.reshape(hidden, [b, h * w, -1]) as tf.Tensor3D; // [B, H·W, inner]
      for (const block of this.transformer_blocks) seq = block.forward(seq, context);
      hidden = this.proj_out.forward(tf.reshape(seq, [b, h, w, -1]) as tf.Tensor4D); // [B, H, W, C]
      return tf.add(hidden, x);
    });
  }
}
