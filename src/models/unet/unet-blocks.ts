/**
 * diffusers `unet_2d_blocks.py`, the five block types SD1.x/2.x use, and the typed factories that pick one by its
 * config name. A down block returns its output and the skip states the matching up block consumes (last first).
 */
import * as tf from "@tensorflow/tfjs";
import { Module, type BuildContext } from "../nn/module.js";
import type { DownBlockType, UpBlockType } from "./config.js";
import { Downsample2D, ResnetBlock2D, Upsample2D } from "./resnet.js";
import { Transformer2DModel } from "./transformer-2d.js";

/** What every resnet of a block shares. */
export interface ResnetArgs {
  tembChannels: number;
  resnetEps: number;
  resnetGroups: number;
}

/** What the cross-attention blocks add. */
export interface AttentionArgs {
  heads: number;
  crossAttentionDim: number;
  transformerLayers: number;
  useLinearProjection: boolean;
}

export interface DownBlockArgs extends ResnetArgs, AttentionArgs {
  numLayers: number;
  inChannels: number;
  outChannels: number;
  addDownsample: boolean;
  downsamplePadding: number;
}

export interface UpBlockArgs extends ResnetArgs, AttentionArgs {
  numLayers: number;
  /** Channels of the deepest skip this block consumes (its last resnet's skip). */
  inChannels: number;
  outChannels: number;
  /** Channels coming up from the block below. */
  prevOutputChannels: number;
  addUpsample: boolean;
}

export type DownBlockOutput = {
  hidden: tf.Tensor4D;
  /** One per resnet, then the downsampled output: [B, H, W, C] each. */
  skips: tf.Tensor4D[];
};

export interface DownBlock extends Module {
  readonly resnets: ResnetBlock2D[];
  forward(x: tf.Tensor4D, temb: tf.Tensor2D, context: tf.Tensor3D): DownBlockOutput;
}

/** [height, width] an up block's upsampler must produce. */
export type UpsampleSize = readonly [number, number];

export interface UpBlock extends Module {
  readonly resnets: ResnetBlock2D[];
  /** `skips` in down order; the last one is consumed first. `upsampleSize` forces the upsampled [H, W]. */
  forward(x: tf.Tensor4D, skips: tf.Tensor4D[], temb: tf.Tensor2D, context: tf.Tensor3D, upsampleSize?: UpsampleSize): tf.Tensor4D;
}

const resnet = (ctx: BuildContext, a: ResnetArgs, inChannels: number, outChannels: number, outputScaleFactor = 1) =>
  new ResnetBlock2D(ctx, {
    inChannels,
    outChannels,
    tembChannels: a.tembChannels,
    groups: a.resnetGroups,
    eps: a.resnetEps,
    outputScaleFactor,
  });

const transformer = (ctx: BuildContext, a: AttentionArgs & ResnetArgs, channels: number) =>
  new Transformer2DModel(ctx, {
    inChannels: channels,
    heads: a.heads,
    dimHead: channels / a.heads,
    numLayers: a.transformerLayers,
    normNumGroups: a.resnetGroups,
    crossAttentionDim: a.crossAttentionDim,
    useLinearProjection: a.useLinearProjection,
  });

const downsamplers = (ctx: BuildContext, a: DownBlockArgs): [Downsample2D] | undefined =>
  a.addDownsample ? [new Downsample2D(ctx, a.outChannels, a.outChannels, a.downsamplePadding)] : undefined;

const upsamplers = (ctx: BuildContext, a: UpBlockArgs): [Upsample2D] | undefined =>
  a.addUpsample ? [new Upsample2D(ctx, a.outChannels, a.outChannels)] : undefined;

/** The first resnet of a down block changes the width; the others keep it. */
const downResnets = (ctx: BuildContext, a: DownBlockArgs) =>
  Array.from({ length: a.numLayers }, (_, i) => resnet(ctx, a, i === 0 ? a.inChannels : a.outChannels, a.outChannels));

/** Resnet i of an up block sees the previous output concatenated with a skip; the last skip has `inChannels`. */
const upResnets = (ctx: BuildContext, a: UpBlockArgs) =>
  Array.from({ length: a.numLayers }, (_, i) => {
    const skipChannels = i === a.numLayers - 1 ? a.inChannels : a.outChannels;
    const resnetIn = i === 0 ? a.prevOutputChannels : a.outChannels;
    return resnet(ctx, a, resnetIn + skipChannels, a.outChannels);
  });

/** Pops the newest skip and concatenates it to x on the channel axis. */
function withSkip(x: tf.Tensor4D, skips: tf.Tensor4D[]): tf.Tensor4D {
  const skip = skips.pop();
  if (!skip) throw new Error("up block ran out of skip states: the down and up blocks do not match");
  return tf.concat([x, skip], 3); // [B, H, W, C + Cskip]
}

export class DownBlock2D extends Module implements DownBlock {
  readonly resnets: ResnetBlock2D[];
  readonly downsamplers: [Downsample2D] | undefined;

  constructor(ctx: BuildContext, a: DownBlockArgs) {
    super();
    this.resnets = downResnets(ctx, a);
    this.downsamplers = downsamplers(ctx, a);
  }

  forward(x: tf.Tensor4D, temb: tf.Tensor2D): DownBlockOutput {
    return tf.tidy(() => {
      const skips: tf.Tensor4D[] = [];
      let hidden = x;
      for (const r of this.resnets) {
        hidden = r.forward(hidden, temb);
        skips.push(hidden);
      }
      if (this.downsamplers) {
        hidden = this.downsamplers[0].forward(hidden);
        skips.push(hidden);
      }
      return { hidden, skips };
    });
  }
}

export class CrossAttnDownBlock2D extends Module implements DownBlock {
  readonly resnets: ResnetBlock2D[];
  readonly attentions: Transformer2DModel[];
  readonly downsamplers: [Downsample2D] | undefined;

  constructor(ctx: BuildContext, a: DownBlockArgs) {
    super();
    this.resnets = downResnets(ctx, a);
    this.attentions = Array.from({ length: a.numLayers }, () => transformer(ctx, a, a.outChannels));
    this.downsamplers = downsamplers(ctx, a);
  }

  forward(x: tf.Tensor4D, temb: tf.Tensor2D, context: tf.Tensor3D): DownBlockOutput {
    return tf.tidy(() => {
      const skips: tf.Tensor4D[] = [];
      let hidden = x;
      this.resnets.forEach((r, i) => {
        hidden = this.attentions[i]!.forward(r.forward(hidden, temb), context);
        skips.push(hidden);
      });
      if (this.downsamplers) {
        hidden = this.downsamplers[0].forward(hidden);
        skips.push(hidden);
      }
      return { hidden, skips };
    });
  }
}

export interface MidBlockArgs extends ResnetArgs, AttentionArgs {
  inChannels: number;
  /** The resnets divide their sum by this (`mid_block_scale_factor`). */
  outputScaleFactor: number;
}

/** resnet → attention → resnet at the deepest width (diffusers' `num_layers = 1`, all the UNet builds). */
export class UNetMidBlock2DCrossAttn extends Module {
  readonly resnets: [ResnetBlock2D, ResnetBlock2D];
  readonly attentions: [Transformer2DModel];

  constructor(ctx: BuildContext, a: MidBlockArgs) {
    super();
    const r = () => resnet(ctx, a, a.inChannels, a.inChannels, a.outputScaleFactor);
    this.resnets = [r(), r()];
    this.attentions = [transformer(ctx, a, a.inChannels)];
  }

  /** [B, H, W, C] → [B, H, W, C] */
  forward(x: tf.Tensor4D, temb: tf.Tensor2D, context: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => {
      const hidden = this.attentions[0].forward(this.resnets[0].forward(x, temb), context);
      return this.resnets[1].forward(hidden, temb);
    });
  }
}

export class UpBlock2D extends Module implements UpBlock {
  readonly resnets: ResnetBlock2D[];
  readonly upsamplers: [Upsample2D] | undefined;

  constructor(ctx: BuildContext, a: UpBlockArgs) {
    super();
    this.resnets = upResnets(ctx, a);
    this.upsamplers = upsamplers(ctx, a);
  }

  /** The text states are not used: the signature is the one every up block shares. */
  forward(x: tf.Tensor4D, skips: tf.Tensor4D[], temb: tf.Tensor2D, _context: tf.Tensor3D, upsampleSize?: UpsampleSize): tf.Tensor4D {
    return tf.tidy(() => {
      const pending = [...skips];
      let hidden = x;
      for (const r of this.resnets) hidden = r.forward(withSkip(hidden, pending), temb);
      return this.upsamplers ? this.upsamplers[0].forward(hidden, upsampleSize) : hidden;
    });
  }
}

export class CrossAttnUpBlock2D extends Module implements UpBlock {
  readonly resnets: ResnetBlock2D[];
  readonly attentions: Transformer2DModel[];
  readonly upsamplers: [Upsample2D] | undefined;

  constructor(ctx: BuildContext, a: UpBlockArgs) {
    super();
    this.resnets = upResnets(ctx, a);
    this.attentions = Array.from({ length: a.numLayers }, () => transformer(ctx, a, a.outChannels));
    this.upsamplers = upsamplers(ctx, a);
  }

  forward(x: tf.Tensor4D, skips: tf.Tensor4D[], temb: tf.Tensor2D, context: tf.Tensor3D, upsampleSize?: UpsampleSize): tf.Tensor4D {
    return tf.tidy(() => {
      const pending = [...skips];
      let hidden = x;
      this.resnets.forEach((r, i) => {
        hidden = this.attentions[i]!.forward(r.forward(withSkip(hidden, pending), temb), context);
      });
      return this.upsamplers ? this.upsamplers[0].forward(hidden, upsampleSize) : hidden;
    });
  }
}

/** diffusers `get_down_block` for the supported types. */
export function getDownBlock(type: DownBlockType, ctx: BuildContext, args: DownBlockArgs): DownBlock {
  switch (type) {
    case "CrossAttnDownBlock2D":
      return new CrossAttnDownBlock2D(ctx, args);
    case "DownBlock2D":
      return new DownBlock2D(ctx, args);
    default:
      return unreachable(type, "down block type");
  }
}

/** diffusers `get_up_block` for the supported types. */
export function getUpBlock(type: UpBlockType, ctx: BuildContext, args: UpBlockArgs): UpBlock {
  switch (type) {
    case "CrossAttnUpBlock2D":
      return new CrossAttnUpBlock2D(ctx, args);
    case "UpBlock2D":
      return new UpBlock2D(ctx, args);
    default:
      return unreachable(type, "up block type");
  }
}

function unreachable(value: never, what: string): never {
  throw new Error(`unknown ${what}: ${JSON.stringify(value)}`);
}
