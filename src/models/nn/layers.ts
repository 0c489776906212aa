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
    if (this.kernelSize === 1 && this.stride === 1 && this.padding === 0) {
      // A 1×1 conv over NHWC is a matmul over the channel axis: no layout transposes for ORT's NCHW Conv.
      const [b, h, w] = x.shape;
      let flat = tf.matMul(tf.reshape(x, [-1, this.inChannels]), tf.reshape(this.weight.tensor, [this.inChannels, this.outChannels]));
      if (this.bias) flat = tf.add(flat, this.bias.tensor);
      return tf.reshape(flat, [b, h, w, this.outChannels]);
    }
    const filter = this.weight.tensor as tf.Tensor4D;
    const pad = this.padding === 0 ? "valid" : this.padding;
    // A trained filter takes the bias inside the conv (TF.js's FusedConv2D, whose bias ORT's Conv takes): no pass
    // adding it. TF.js's fused conv computes every input's gradient, so a frozen filter keeps conv + add, whose
    // gradient skips the filter's (and ORT folds a constant bias into the Conv itself).
    if (this.bias && filter instanceof tf.Variable && filter.trainable) {
      return tf.fused.conv2d({ x, filter, strides: this.stride, pad, bias: this.bias.tensor });
    }
    const y = tf.conv2d(x, filter, this.stride, pad);
    return this.bias ? tf.add(y, this.bias.tensor) : y;
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
   * per-channel sums over the positions' axes, combined per group on the small [B, G, C/G] tensor and spread back to
   * [B, 1, …, 1, C]. So every op on the full tensor is a reduction over the position axes or a per-channel broadcast,
   * with no reshape of x: ONNX Runtime moves the NCHW convs' layout transposes through all of them and they cancel
   * between convs; and it runs them as strided loops, where a [B, 1, G, 1] broadcast went element by element.
   */
  forward(x: tf.Tensor): tf.Tensor {
    return groupNorm(x, this.weight.tensor, this.bias.tensor, this.numGroups, this.eps);
  }
}

/**
 * GroupNorm's forward pass (see GroupNorm.forward) with its gradient written out. With centered = x − μ and
 * r = 1/√(var + eps) per (batch, group), scale = r·w per (batch, channel), the per-channel sums over positions
 * S0 = Σ dy and S1 = Σ dy·centered, and n the elements of a group:
 *   dβ = Σ_b S0,   dw = Σ_b r·S1,
 *   dx = dy·scale + centered·a + k,   a = −r³/n · Σ_{c∈g} w·S1,   k = −(1/n) Σ_{c∈g} scale·S0
 * (μ's own term vanishes: Σ centered = 0). That is seven passes over x's size where TF.js's chain of kernel
 * gradients makes about eleven, and the same gradients to float rounding.
 */
function groupNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, groups: number, eps: number): tf.Tensor {
  const [b] = x.shape as [number];
  const c = x.shape[x.rank - 1]!;
  const perGroupChannels = c / groups;
  const positionAxes = x.shape.slice(1, -1).map((_, i) => i + 1);
  const statShape = x.shape.map((d, i) => (i === 0 || i === x.rank - 1 ? d : 1)); // [B, 1, …, 1, C]
  const n = (x.size / b / c) * perGroupChannels;
  /** Per-channel values [B, C] (or [B, 1, …, 1, C]) summed over each group → [B, G, 1]. */
  const groupSum = (t: tf.Tensor) => tf.sum(tf.reshape(t, [b, groups, perGroupChannels]), 2, true);
  /** [B, G, 1] spread to each of the group's channels, [B, 1, …, 1, C]. */
  const spread = (t: tf.Tensor) => tf.reshape(tf.tile(t, [1, 1, perGroupChannels]), statShape);
  const groupMean = (t: tf.Tensor) => spread(tf.div(groupSum(tf.sum(t, positionAxes)), n));
  const op = tf.customGrad((...args: unknown[]) => {
    const [xIn, w, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const centered = tf.sub(xIn!, groupMean(xIn!));
    const r = tf.rsqrt(tf.add(groupMean(tf.square(centered)), eps)); // [B, 1, …, 1, C]: each group's r
    const scale = tf.mul(r, w!); // [B, 1, …, 1, C]
    save([centered, r, scale, w!]);
    return {
      value: tf.add(tf.mul(centered, scale), beta!),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [sc, sr, sscale, sw] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const s0 = tf.sum(g, positionAxes, true); // [B, 1, …, 1, C]
        const s1 = tf.sum(tf.mul(g, sc), positionAxes, true);
        const a = spread(tf.mul(groupSum(tf.mul(s1, sw)), -1 / n)); // without r³
        const k = spread(tf.mul(groupSum(tf.mul(sscale, s0)), -1 / n));
        const dx = tf.add(tf.add(tf.mul(g, sscale), tf.mul(sc, tf.mul(a, tf.mul(sr, tf.square(sr))))), k);
        const batchSum = (t: tf.Tensor) => tf.reshape(tf.sum(t, 0), [c]);
        return [dx, batchSum(tf.mul(s1, sr)), batchSum(s0)];
      },
    };
  });
  return op(x, weight, bias);
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
    return layerNorm(x, this.weight.tensor, this.bias.tensor, this.eps);
  }
}

/**
 * LayerNorm over the last axis with its gradient written out: with x̂ = (x − μ)/σ, σ = √(var + eps) and g = dy·w,
 *   dx = (g − mean(g) − x̂·mean(g·x̂)) / σ,   dw = Σ dy·x̂,   dβ = Σ dy
 * (means over the last axis, sums over the others): seven passes over x's size and four reductions, where TF.js's
 * chain through moments, the division and the square root makes about twice as many; the same gradients to rounding.
 */
function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1]!;
  const op = tf.customGrad((...args: unknown[]) => {
    const [xIn, w, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const { mean, variance } = tf.moments(xIn!, -1, true);
    const sigma = tf.sqrt(tf.add(variance, eps)); // [..., 1]
    const normed = tf.div(tf.sub(xIn!, mean), sigma);
    save([normed, sigma, w!]);
    return {
      value: tf.add(tf.mul(normed, w!), beta!),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = dy as tf.Tensor;
        const [xHat, s, sw] = saved as [tf.Tensor, tf.Tensor, tf.Tensor];
        const gw = tf.mul(g, sw);
        const centred = tf.sub(gw, tf.mean(gw, -1, true));
        const dx = tf.div(tf.sub(centred, tf.mul(xHat, tf.mean(tf.mul(gw, xHat), -1, true))), s);
        const leading = (t: tf.Tensor) => tf.sum(tf.reshape(t, [-1, d]), 0);
        return [dx, leading(tf.mul(g, xHat)), leading(g)];
      },
    };
  });
  return op(x, weight, bias);
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
