/**
 * The PyTorch layers the SD stack is made of, NHWC for images. Each keeps PyTorch's parameter names and shapes.
 */
import * as tf from "@tensorflow/tfjs";
import { Module, makeParam, type BuildContext, type Param } from "./module.js";

export class Linear extends Module {
  readonly weight: Param;
  readonly bias: Param | undefined;

  constructor(ctx: BuildContext, readonly inFeatures: number, readonly outFeatures: number, bias = true) {
    super();
    this.weight = makeParam(ctx, [outFeatures, inFeatures], "linear", "weight");
    this.bias = bias ? makeParam(ctx, [outFeatures], "plain", "bias") : undefined;
  }

  /** x [..., in] → [..., out] */
  forward(x: tf.Tensor): tf.Tensor {
    const lead = x.shape.slice(0, -1);
    let y = tf.matMul(tf.reshape(x, [-1, this.inFeatures]), this.weight.tensor);
    if (this.bias) y = tf.add(y, this.bias.tensor);
    return tf.reshape(y, [...lead, this.outFeatures]);
  }
}

export class Conv2d extends Module {
  readonly weight: Param;
  readonly bias: Param | undefined;

  constructor(
    ctx: BuildContext,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly stride = 1,
    /** PyTorch's symmetric zero padding. */
    readonly padding = 0,
    bias = true,
  ) {
    super();
    this.weight = makeParam(ctx, [outChannels, inChannels, kernelSize, kernelSize], "conv", "weight");
    this.bias = bias ? makeParam(ctx, [outChannels], "plain", "bias") : undefined;
  }

  /** x [B, H, W, Cin] → [B, H', W', Cout] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let y = tf.conv2d(x, this.weight.tensor as tf.Tensor4D, this.stride, this.padding === 0 ? "valid" : this.padding);
    if (this.bias) y = tf.add(y, this.bias.tensor);
    return y;
  }
}

export class GroupNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;

  constructor(ctx: BuildContext, readonly numGroups: number, readonly numChannels: number, readonly eps = 1e-5) {
    super();
    if (numChannels % numGroups !== 0) {
      throw new Error(`GroupNorm: num_channels=${numChannels} is not divisible by num_groups=${numGroups}`);
    }
    this.weight = makeParam(ctx, [numChannels], "plain", "norm_weight");
    this.bias = makeParam(ctx, [numChannels], "plain", "norm_bias");
  }

  /**
   * x [B, ..., C] (channels last) normalised over each group of C/G channels and all positions. The statistics are
   * per-channel sums over positions, combined per group on the small [B, 1, G, C/G] tensor and spread back to
   * [B, 1, C], so every op on the full tensor broadcasts along positions only (contiguous channels): ONNX Runtime
   * runs those as strided loops, where a [B, 1, G, 1] broadcast over [B, N, G, C/G] went element by element.
   */
  forward(x: tf.Tensor): tf.Tensor {
    const [b] = x.shape;
    const c = this.numChannels;
    const g = this.numGroups;
    const flat = tf.reshape(x, [b!, -1, c]); // [B, N, C]
    const count = flat.shape[1]! * (c / g);
    const perChannel = (t: tf.Tensor) => tf.reshape(tf.sum(t, 1, true), [b!, 1, g, c / g]); // Σ over N → [B, 1, G, C/G]
    const groupMean = (t: tf.Tensor) =>
      tf.reshape(tf.tile(tf.div(tf.sum(perChannel(t), 3, true), count), [1, 1, 1, c / g]), [b!, 1, c]); // [B, 1, C]
    const centered = tf.sub(flat, groupMean(flat));
    const variance = groupMean(tf.square(centered));
    const scale = tf.mul(tf.rsqrt(tf.add(variance, this.eps)), this.weight.tensor); // [B, 1, C]
    return tf.reshape(tf.add(tf.mul(centered, scale), this.bias.tensor), x.shape);
  }
}

export class LayerNorm extends Module {
  readonly weight: Param;
  readonly bias: Param;

  constructor(ctx: BuildContext, readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = makeParam(ctx, [dim], "plain", "norm_weight");
    this.bias = makeParam(ctx, [dim], "plain", "norm_bias");
  }

  /** Normalises over the last axis. */
  forward(x: tf.Tensor): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps)));
    return tf.add(tf.mul(normed, this.weight.tensor), this.bias.tensor);
  }
}

export class Embedding extends Module {
  readonly weight: Param;

  constructor(ctx: BuildContext, readonly numEmbeddings: number, readonly dim: number) {
    super();
    this.weight = makeParam(ctx, [numEmbeddings, dim], "plain", "embedding");
  }

  /** ids [...] (int32) → [..., dim] */
  forward(ids: tf.Tensor): tf.Tensor {
    return tf.gather(this.weight.tensor, ids);
  }
}
