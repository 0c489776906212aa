/**
 * diffusers `attention_processor.Attention` (with the default scaled-dot-product processor), the GEGLU
 * `FeedForward`, and the `BasicTransformerBlock` that chains them: self-attention, cross-attention, feed-forward,
 * each pre-LayerNorm and residual. Sequences are [B, N, C].
 */
import * as tf from "@tensorflow/tfjs";
import { LayerNorm, Linear } from "../nn/layers.js";
import { scaledDotProductAttention } from "../nn/attention.js";
import { Module, type BuildContext } from "../nn/module.js";
import { geglu } from "../nn/activations.js";

export interface AttentionOptions {
  queryDim: number;
  /** Width of the states attended to; absent for self-attention (keys and values come from the query input). */
  crossAttentionDim?: number;
  heads: number;
  dimHead: number;
}

/**
 * softmax(QKᵀ/√d)·V over `heads` heads of size d = `dimHead`, then `to_out.0`. Q, K, V have no bias (diffusers'
 * `attention_bias = False` in the UNet); the output projection has one.
 */
export class Attention extends Module {
  readonly to_q: Linear;
  readonly to_k: Linear;
  readonly to_v: Linear;
  /** `nn.ModuleList([Linear, Dropout])` in diffusers; the dropout (p = 0) has no parameters. */
  readonly to_out: [Linear];
  readonly heads: number;
  readonly dimHead: number;

  constructor(ctx: BuildContext, o: AttentionOptions) {
    super();
    const inner = o.heads * o.dimHead;
    const kvDim = o.crossAttentionDim ?? o.queryDim;
    this.to_q = new Linear(ctx, o.queryDim, inner, false);
    this.to_k = new Linear(ctx, kvDim, inner, false);
    this.to_v = new Linear(ctx, kvDim, inner, false);
    this.to_out = [new Linear(ctx, inner, o.queryDim)];
    this.heads = o.heads;
    this.dimHead = o.dimHead;
  }

  /** x [B, N, Cq], context [B, M, Cc] (defaults to x) → [B, N, Cq] */
  forward(x: tf.Tensor3D, context?: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const kv = context ?? x;
      const [b, n] = x.shape;
      const m = kv.shape[1];
      const split = (t: tf.Tensor, len: number) =>
        tf.transpose(tf.reshape(t, [b, len, this.heads, this.dimHead]), [0, 2, 1, 3]); // [B, heads, len, d]
      // The 1/√d scale on Q ([B, N, inner]) rather than on the [B, heads, N, M] scores: the same product, less work.
      const q = split(tf.mul(this.to_q.forward(x), 1 / Math.sqrt(this.dimHead)), n);
      const k = split(this.to_k.forward(kv), m);
      const v = split(this.to_v.forward(kv), m);
      const out = scaledDotProductAttention(q, k, v); // [B, heads, N, d]
      const merged = tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b, n, this.heads * this.dimHead]); // [B, N, inner]
      return this.to_out[0].forward(merged) as tf.Tensor3D;
    });
  }
}

/** diffusers `GEGLU`: `proj` to twice the width, split into (value, gate), value · gelu(gate). */
export class GEGLU extends Module {
  readonly proj: Linear;

  constructor(ctx: BuildContext, dimIn: number, readonly dimOut: number) {
    super();
    this.proj = new Linear(ctx, dimIn, 2 * dimOut);
  }

  /** [B, N, dimIn] → [B, N, dimOut] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const [value, gate] = tf.split(this.proj.forward(x), 2, -1);
      return geglu(value!, gate!) as tf.Tensor3D;
    });
  }
}

/** `nn.Dropout(p = 0)`: the identity, present so the output projection keeps its diffusers key `net.2`. */
class Dropout extends Module {}

/** diffusers `FeedForward(dim, mult = 4, activation_fn = "geglu")`: `net.0` GEGLU to 4·dim, `net.2` back to dim. */
export class FeedForward extends Module {
  readonly net: [GEGLU, Dropout, Linear];

  constructor(ctx: BuildContext, dim: number) {
    super();
    const inner = 4 * dim;
    this.net = [new GEGLU(ctx, dim, inner), new Dropout(), new Linear(ctx, inner, dim)];
  }

  /** [B, N, dim] → [B, N, dim] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => this.net[2].forward(this.net[0].forward(x)) as tf.Tensor3D);
  }
}

export interface BasicTransformerBlockOptions {
  dim: number;
  heads: number;
  dimHead: number;
  crossAttentionDim: number;
}

/**
 * h += attn1(norm1(h)); h += attn2(norm2(h), context); h += ff(norm3(h)). LayerNorm eps is diffusers' 1e-5.
 */
export class BasicTransformerBlock extends Module {
  readonly norm1: LayerNorm;
  readonly attn1: Attention;
  readonly norm2: LayerNorm;
  readonly attn2: Attention;
  readonly norm3: LayerNorm;
  readonly ff: FeedForward;

  constructor(ctx: BuildContext, o: BasicTransformerBlockOptions) {
    super();
    const { dim, heads, dimHead } = o;
    this.norm1 = new LayerNorm(ctx, dim, 1e-5);
    this.attn1 = new Attention(ctx, { queryDim: dim, heads, dimHead });
    this.norm2 = new LayerNorm(ctx, dim, 1e-5);
    this.attn2 = new Attention(ctx, { queryDim: dim, crossAttentionDim: o.crossAttentionDim, heads, dimHead });
    this.norm3 = new LayerNorm(ctx, dim, 1e-5);
    this.ff = new FeedForward(ctx, dim);
  }

  /** x [B, N, dim], context [B, M, crossAttentionDim] → [B, N, dim] */
  forward(x: tf.Tensor3D, context: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      let h = tf.add(x, this.attn1.forward(this.norm1.forward(x) as tf.Tensor3D)) as tf.Tensor3D;
      h = tf.add(h, this.attn2.forward(this.norm2.forward(h) as tf.Tensor3D, context));
      return tf.add(h, this.ff.forward(this.norm3.forward(h) as tf.Tensor3D));
    });
  }
}
