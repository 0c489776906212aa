/**
 * diffusers `UNet2DConditionModel` (the SD1.x/2.x denoiser): predicts the noise in a latent given the timestep and
 * the text encoder's hidden states. Property paths equal the diffusers state-dict keys; the config is diffusers'
 * `config.json`. Latents are NHWC.
 */
import * as tf from "@tensorflow/tfjs";
import { Conv2d, GroupNorm } from "../nn/layers.js";
import { Module, type BuildContext } from "../nn/module.js";
import { silu } from "../nn/activations.js";
import { DEFAULT_UNET_CONFIG, perBlock, validateUNetConfig, type UNet2DConditionConfig } from "./config.js";
import { TimestepEmbedding, Timesteps } from "./embeddings.js";
import { getDownBlock, getUpBlock, UNetMidBlock2DCrossAttn, type DownBlock, type UpBlock } from "./unet-blocks.js";

export class UNet2DConditionModel extends Module {
  readonly config: UNet2DConditionConfig;
  readonly conv_in: Conv2d;
  readonly time_proj: Timesteps;
  readonly time_embedding: TimestepEmbedding;
  readonly down_blocks: DownBlock[];
  readonly mid_block: UNetMidBlock2DCrossAttn;
  readonly up_blocks: UpBlock[];
  readonly conv_norm_out: GroupNorm;
  readonly conv_out: Conv2d;

  /** `config` may be a parsed `config.json`; it is validated (see `validateUNetConfig`). */
  constructor(ctx: BuildContext, config: unknown = DEFAULT_UNET_CONFIG) {
    super();
    const c = (this.config = validateUNetConfig(config));
    const n = c.down_block_types.length;
    const channels = c.block_out_channels;
    const layers = perBlock(c.layers_per_block, n);
    const heads = perBlock(c.attention_head_dim, n);
    const crossDims = perBlock(c.cross_attention_dim, n);
    const transformerLayers = perBlock(c.transformer_layers_per_block, n);
    const shared = {
      resnetEps: c.norm_eps,
      resnetGroups: c.norm_num_groups,
      useLinearProjection: c.use_linear_projection,
      tembChannels: c.time_embedding_dim ?? 4 * channels[0]!,
    };
    const attention = (level: number) => ({
      heads: heads[level]!,
      crossAttentionDim: crossDims[level]!,
      transformerLayers: transformerLayers[level]!,
    });

    this.conv_in = new Conv2d(ctx, c.in_channels, channels[0]!, c.conv_in_kernel, 1, (c.conv_in_kernel - 1) / 2);
    this.time_proj = new Timesteps(channels[0]!, c.flip_sin_to_cos, c.freq_shift);
    this.time_embedding = new TimestepEmbedding(ctx, channels[0]!, shared.tembChannels);

    this.down_blocks = c.down_block_types.map((type, i) =>
      getDownBlock(type, ctx, {
        ...shared,
        ...attention(i),
        numLayers: layers[i]!,
        inChannels: channels[Math.max(i - 1, 0)]!,
        outChannels: channels[i]!,
        addDownsample: i < n - 1,
        downsamplePadding: c.downsample_padding,
      }),
    );

    this.mid_block = new UNetMidBlock2DCrossAttn(ctx, {
      ...shared,
      ...attention(n - 1),
      inChannels: channels[n - 1]!,
      outputScaleFactor: c.mid_block_scale_factor,
    });

    // Up block i mirrors down block n−1−i: it consumes that level's skips, the deepest first.
    this.up_blocks = c.up_block_types.map((type, i) => {
      const level = n - 1 - i;
      return getUpBlock(type, ctx, {
        ...shared,
        ...attention(level),
        numLayers: layers[level]! + 1,
        inChannels: channels[Math.max(level - 1, 0)]!,
        outChannels: channels[level]!,
        prevOutputChannels: channels[Math.min(level + 1, n - 1)]!,
        addUpsample: i < n - 1,
      });
    });

    this.conv_norm_out = new GroupNorm(ctx, c.norm_num_groups, channels[0]!, c.norm_eps);
    this.conv_out = new Conv2d(ctx, channels[0]!, c.out_channels, c.conv_out_kernel, 1, (c.conv_out_kernel - 1) / 2);
  }

  /**
   * sample [B, H, W, in_channels], timestep (a number, a scalar tensor or one per sample [B]), encoderHiddenStates
   * [B, M, cross_attention_dim] → the prediction [B, H, W, out_channels].
   */
  forward(sample: tf.Tensor4D, timestep: number | tf.Tensor, encoderHiddenStates: tf.Tensor3D): tf.Tensor4D {
    const [b, , , ch] = sample.shape;
    if (ch !== this.config.in_channels) {
      throw new Error(`sample has shape [${sample.shape}]: its last axis must be in_channels=${this.config.in_channels}`);
    }
    if (encoderHiddenStates.shape[0] !== b) {
      throw new Error(`encoderHiddenStates has shape [${encoderHiddenStates.shape}]: batch must equal the sample's ${b}`);
    }
    return tf.tidy(() => {
      const context = encoderHiddenStates;
      const temb = this.time_embedding.forward(this.time_proj.forward(timestepBatch(timestep, b))); // [B, T]
      const centred = this.config.center_input_sample ? tf.sub(tf.mul(sample, 2), 1) : sample;
      let x: tf.Tensor4D = this.conv_in.forward(centred as tf.Tensor4D); // [B, H, W, C0]
      const skips: tf.Tensor4D[] = [x];
      for (const block of this.down_blocks) {
        const out = block.forward(x, temb, context);
        x = out.hidden;
        skips.push(...out.skips);
      }
      x = this.mid_block.forward(x, temb, context);
      for (const block of this.up_blocks) {
        const consumed = skips.splice(skips.length - block.resnets.length);
        // Upsample to the next skip's size: ×2 when the sizes divide evenly, diffusers' `upsample_size` otherwise.
        const next = skips[skips.length - 1];
        x = block.forward(x, consumed, temb, context, next && [next.shape[1], next.shape[2]]);
      }
      return this.conv_out.forward(silu(this.conv_norm_out.forward(x)) as tf.Tensor4D); // [B, H, W, out]
    });
  }
}

/** diffusers `get_time_embed`: one timestep per sample. */
export function timestepBatch(timestep: number | tf.Tensor, batch: number): tf.Tensor1D {
  if (typeof timestep === "number") return tf.fill([batch], timestep);
  if (timestep.size === 1) return tf.tile(tf.reshape(timestep, [1]), [batch]);
  if (timestep.rank === 1 && timestep.shape[0] === batch) return timestep as tf.Tensor1D;
  throw new Error(`timestep has shape [${timestep.shape}]: expected a number, a scalar or one per sample [${batch}]`);
}
