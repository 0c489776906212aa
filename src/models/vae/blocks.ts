/**
 * The VAE's blocks (diffusers `unets/unet_2d_blocks.py`): `DownEncoderBlock2D`, `UpDecoderBlock2D` and the
 * `UNetMidBlock2D` both halves share, chosen by the config's block-type strings.
 */
import type * as tf from "@tensorflow/tfjs";
import { Module, type BuildContext } from "../nn/module.js";
import { VaeAttention } from "./attention.js";
import type { DownEncoderBlockType, UpDecoderBlockType } from "./config.js";
import { Downsample2D, ResnetBlock2D, Upsample2D } from "./resnet.js";

export class DownEncoderBlock2D extends Module {
  readonly resnets: ResnetBlock2D[];
  readonly downsamplers: [Downsample2D] | undefined;

  constructor(ctx: BuildContext, inChannels: number, outChannels: number, numLayers: number, groups: number, addDownsample: boolean) {
    super();
    this.resnets = Array.from({ length: numLayers }, (_, i) =>
      new ResnetBlock2D(ctx, i === 0 ? inChannels : outChannels, outChannels, groups),
    );
    this.downsamplers = addDownsample ? [new Downsample2D(ctx, outChannels)] : undefined;
  }

  /** x [B, H, W, Cin] → [B, H/2, W/2, Cout] (or [B, H, W, Cout] in the last block) */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = x;
    for (const resnet of this.resnets) h = resnet.forward(h);
    return this.downsamplers ? this.downsamplers[0].forward(h) : h;
  }
}

export class UpDecoderBlock2D extends Module {
  readonly resnets: ResnetBlock2D[];
  readonly upsamplers: [Upsample2D] | undefined;

  constructor(ctx: BuildContext, inChannels: number, outChannels: number, numLayers: number, groups: number, addUpsample: boolean) {
    super();
    this.resnets = Array.from({ length: numLayers }, (_, i) =>
      new ResnetBlock2D(ctx, i === 0 ? inChannels : outChannels, outChannels, groups),
    );
    this.upsamplers = addUpsample ? [new Upsample2D(ctx, outChannels)] : undefined;
  }

  /** x [B, H, W, Cin] → [B, 2H, 2W, Cout] (or [B, H, W, Cout] in the last block) */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = x;
    for (const resnet of this.resnets) h = resnet.forward(h);
    return this.upsamplers ? this.upsamplers[0].forward(h) : h;
  }
}

/** resnet → (attention → resnet), at the lowest resolution. */
export class UNetMidBlock2D extends Module {
  /** Empty when the config sets `mid_block_add_attention: false`. */
  readonly attentions: VaeAttention[];
  readonly resnets: [ResnetBlock2D, ResnetBlock2D];

  constructor(ctx: BuildContext, channels: number, groups: number, addAttention: boolean) {
    super();
    this.attentions = addAttention ? [new VaeAttention(ctx, channels, groups)] : [];
    this.resnets = [new ResnetBlock2D(ctx, channels, channels, groups), new ResnetBlock2D(ctx, channels, channels, groups)];
  }

  /** x [B, H, W, C] → [B, H, W, C] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    let h = this.resnets[0].forward(x);
    const attention = this.attentions[0];
    if (attention) h = attention.forward(h);
    return this.resnets[1].forward(h);
  }
}

export interface BlockArgs {
  inChannels: number;
  outChannels: number;
  numLayers: number;
  groups: number;
  /** False for the last (lowest-resolution) down block and the last (full-resolution) up block. */
  resample: boolean;
}

export function getDownBlock(ctx: BuildContext, type: DownEncoderBlockType, a: BlockArgs): DownEncoderBlock2D {
  switch (type) {
    case "DownEncoderBlock2D":
      return new DownEncoderBlock2D(ctx, a.inChannels, a.outChannels, a.numLayers, a.groups, a.resample);
  }
}

export function getUpBlock(ctx: BuildContext, type: UpDecoderBlockType, a: BlockArgs): UpDecoderBlock2D {
  switch (type) {
    case "UpDecoderBlock2D":
      return new UpDecoderBlock2D(ctx, a.inChannels, a.outChannels, a.numLayers, a.groups, a.resample);
  }
}
