/**
 * The timestep embedding (diffusers `embeddings.py`): `Timesteps` turns each timestep into DDPM's sinusoidal
 * features, `TimestepEmbedding` projects them with `linear_1` → SiLU → `linear_2`.
 */
import * as tf from "@tensorflow/tfjs";
import { Linear } from "../nn/layers.js";
import { Module, type BuildContext } from "../nn/module.js";
import { silu } from "../nn/activations.js";

/**
 * diffusers' `get_timestep_embedding` with `scale = 1`, `max_period = 10000`: for half = ⌊dim/2⌋ and i < half,
 * freq_i = exp(−ln(10000) · i / (half − downscale_freq_shift)); the features are [sin(t·freq), cos(t·freq)], swapped
 * to [cos, sin] when `flip_sin_to_cos`, and a zero column is appended when dim is odd.
 */
export class Timesteps extends Module {
  /**
   * freq_i with every step rounded to float32, as diffusers' float32 tensors round it: at t ≈ 1000 a one-ulp
   * difference in a frequency would move sin/cos by ~1e-5.
   */
  private readonly frequencies: Float32Array;

  constructor(
    readonly numChannels: number,
    readonly flipSinToCos: boolean,
    readonly downscaleFreqShift: number,
  ) {
    super();
    const half = Math.floor(numChannels / 2);
    const f32 = Math.fround;
    this.frequencies = Float32Array.from({ length: half }, (_, i) =>
      Math.exp(f32(f32(f32(-Math.log(10000)) * i) / f32(half - downscaleFreqShift))),
    );
  }

  /** timesteps [B] (may be fractional) → [B, numChannels] */
  forward(timesteps: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const freqs = tf.tensor2d(this.frequencies, [1, this.frequencies.length]); // [1, half]
      const args = tf.mul(tf.expandDims(tf.cast(timesteps, "float32"), 1), freqs); // [B, half]
      const [sin, cos] = [tf.sin(args), tf.cos(args)];
      let emb = tf.concat(this.flipSinToCos ? [cos, sin] : [sin, cos], 1); // [B, 2·half]
      if (this.numChannels % 2 === 1) emb = tf.pad(emb, [[0, 0], [0, 1]]);
      return emb as tf.Tensor2D;
    });
  }
}

export class TimestepEmbedding extends Module {
  readonly linear_1: Linear;
  readonly linear_2: Linear;

  constructor(ctx: BuildContext, inChannels: number, timeEmbedDim: number) {
    super();
    this.linear_1 = new Linear(ctx, inChannels, timeEmbedDim);
    this.linear_2 = new Linear(ctx, timeEmbedDim, timeEmbedDim);
  }

  /** [B, in] → [B, timeEmbedDim] */
  forward(sample: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.linear_2.forward(silu(this.linear_1.forward(sample))) as tf.Tensor2D);
  }
}
