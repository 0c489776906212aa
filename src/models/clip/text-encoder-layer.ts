/**
 * One transformer layer of CLIP's text tower (transformers `models/clip/modeling_clip.py`): pre-LayerNorm
 * multi-head self-attention with an additive mask, then a pre-LayerNorm MLP, each with a residual.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, type BuildContext } from "../nn/module.js";
import { scaledDotProductAttention } from "../nn/attention.js";
import { LayerNorm, Linear } from "../nn/layers.js";
import { gelu } from "../nn/activations.js";
import type { ClipHiddenAct, ClipTextConfig } from "./text-config.js";

/** Additive causal mask [T, T]: 0 where key ≤ query, float32's lowest value above the diagonal (as transformers). */
export function causalMask(length: number): tf.Tensor2D {
  return tf.tidy(() => {
    const allowed = tf.linalg.bandPart(tf.ones([length, length]), -1, 0); // lower triangle incl. diagonal
    return tf.mul(tf.sub(1, allowed), -3.4028234663852886e38) as tf.Tensor2D;
  });
}

export function activation(name: ClipHiddenAct, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case "quick_gelu":
      return tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));
    case "gelu":
      return gelu(x);
  }
}

export class CLIPAttention extends Module {
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly q_proj: Linear;
  readonly out_proj: Linear;
  readonly heads: number;

  constructor(ctx: BuildContext, config: ClipTextConfig) {
    super();
    const d = config.hidden_size;
    this.heads = config.num_attention_heads;
    this.k_proj = new Linear(ctx, d, d);
    this.v_proj = new Linear(ctx, d, d);
    this.q_proj = new Linear(ctx, d, d);
    this.out_proj = new Linear(ctx, d, d);
  }

  /** x [B, T, D], mask [T, T] additive → [B, T, D] */
  forward(x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
    const [b, t, d] = x.shape;
    const headDim = d / this.heads;
    const split = (y: tf.Tensor) => tf.transpose(tf.reshape(y, [b, t, this.heads, headDim]), [0, 2, 1, 3]) as tf.Tensor4D; // [B, h, T, hd]
    const q = split(this.q_proj.forward(x));
    const k = split(this.k_proj.forward(x));
    const v = split(this.v_proj.forward(x));
    const attended = scaledDotProductAttention(tf.mul(q, 1 / Math.sqrt(headDim)), k, v, mask); // [B, h, T, hd]
    const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [b, t, d]); // [B, T, D]
    return this.out_proj.forward(merged) as tf.Tensor3D;
  }
}

export class CLIPMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(ctx: BuildContext, readonly config: ClipTextConfig) {
    super();
    this.fc1 = new Linear(ctx, config.hidden_size, config.intermediate_size);
    this.fc2 = new Linear(ctx, config.intermediate_size, config.hidden_size);
  }

  /** x [B, T, D] → [B, T, D] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return this.fc2.forward(activation(this.config.hidden_act, this.fc1.forward(x))) as tf.Tensor3D;
  }
}

export class CLIPEncoderLayer extends Module {
  readonly self_attn: CLIPAttention;
  readonly layer_norm1: LayerNorm;
  readonly mlp: CLIPMLP;
  readonly layer_norm2: LayerNorm;

  constructor(ctx: BuildContext, config: ClipTextConfig) {
    super();
    this.self_attn = new CLIPAttention(ctx, config);
    this.layer_norm1 = new LayerNorm(ctx, config.hidden_size, config.layer_norm_eps);
    this.mlp = new CLIPMLP(ctx, config);
    this.layer_norm2 = new LayerNorm(ctx, config.hidden_size, config.layer_norm_eps);
  }

  /** x [B, T, D], mask [T, T] additive → [B, T, D] */
  forward(x: tf.Tensor3D, mask: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const h = tf.add(x, this.self_attn.forward(this.layer_norm1.forward(x) as tf.Tensor3D, mask)) as tf.Tensor3D;
      return tf.add(h, this.mlp.forward(this.layer_norm2.forward(h) as tf.Tensor3D));
    });
  }
}
