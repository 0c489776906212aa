/**
 * Text-to-image sampling as diffusers' StableDiffusionPipeline does it: encode the prompts (and the negative /
 * empty prompts for classifier-free guidance), draw the initial latents, run the DDIM chain with guidance
 * ε̂ = ε_u + w·(ε_c − ε_u), decode latents / scaling_factor with the VAE. The pieces are exported so the trainers
 * can run the same chain with gradients on the steps they keep.
 */
import * as tf from "@tensorflow/tfjs";

import type { CLIPTextModel } from "../models/clip/text-model.js";
import type { CLIPTokenizer } from "../models/clip/tokenizer.js";
import type { UNet2DConditionModel } from "../models/unet/index.js";
import { textLastHiddenState, unetForward, vaeDecode } from "../models/traced.js";
import type { AutoencoderKL } from "../models/vae/index.js";
import { Rng } from "../util/rng.js";
import type { DDIMScheduler } from "./ddim.js";

export interface SamplingComponents {
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  tokenizer: CLIPTokenizer;
  scheduler: DDIMScheduler;
}

export interface SampleOptions {
  prompts: readonly string[];
  /** One per prompt, or one for all; default "" (the unconditional prompt). Unused when guidanceScale ≤ 1. */
  negativePrompts?: string | readonly string[];
  /** DDIM steps; default 50. */
  steps?: number;
  /** w of classifier-free guidance; default 5 (TRL's sample_guidance_scale); ≤ 1 runs the text-conditioned model alone. */
  guidanceScale?: number;
  /** DDIM η; default 0 (deterministic given the initial latents). */
  eta?: number;
  /** Draws the initial latents, then the DDIM noise when eta > 0. Default: a generator seeded with `seed`. */
  generator?: Rng;
  /**
   * x_T itself, [B, H/f, W/f, C], instead of drawing it (diffusers' `latents=`; scaled by init_noise_sigma likewise).
   * The caller keeps ownership.
   */
  latents?: tf.Tensor4D;
  /**
   * z of each step's σ_t·z when eta > 0, one [B, H/f, W/f, C] per DDIM step, instead of drawing it (diffusers'
   * `DDIMScheduler.step(..., variance_noise=)`). The caller keeps ownership.
   */
  varianceNoise?: readonly tf.Tensor4D[];
  /** Default 0. */
  seed?: number;
  /** Image size in pixels, multiples of the VAE's downscale; default the UNet's sample_size × downscale. */
  height?: number;
  width?: number;
  /** Called after each denoising step. */
  onStep?: (index: number, timestep: number) => void;
}

export interface SampleOutput {
  /** [B, H, W, 3] in [0, 1]. */
  images: tf.Tensor4D;
  /** [B, H/f, W/f, C] the final (scaled) latents. */
  latents: tf.Tensor4D;
}

/** Renders one image per prompt. The caller owns (disposes) the returned tensors. */
export function sample(components: SamplingComponents, opts: SampleOptions): SampleOutput {
  const { unet, vae, scheduler } = components;
  const { prompts, steps = 50, guidanceScale = 5, eta = 0 } = opts;
  if (prompts.length === 0) throw new Error("prompts is empty: give at least one prompt");
  const generator = opts.generator ?? new Rng(opts.seed ?? 0);
  const { height, width } = imageSize(unet, vae, opts.height, opts.width);
  const guided = guidanceScale > 1;
  const negatives = guided ? negativesFor(prompts, opts.negativePrompts) : [];
  scheduler.setTimesteps(steps);

  const f = vae.downscale;
  const shape: [number, number, number, number] = [prompts.length, height / f, width / f, unet.config.in_channels];
  checkGivenNoise(shape, steps, eta, opts);
  const context = tf.tidy(() =>
    guided
      ? tf.concat([encodePrompts(components, negatives), encodePrompts(components, prompts)]) // [2B, T, D]: uncond, cond
      : encodePrompts(components, prompts), // [B, T, D]
  );
  let latents = opts.latents
    ? tf.tidy(() => tf.mul(opts.latents!, scheduler.initNoiseSigma) as tf.Tensor4D)
    : initialLatents(shape, generator, scheduler.initNoiseSigma);
  try {
    scheduler.timesteps.forEach((t, i) => {
      const next = tf.tidy(() => {
        const eps = guidedNoise(unet, latents, t, context, guided ? guidanceScale : 1);
        const noise = eta > 0 ? (opts.varianceNoise ? { varianceNoise: opts.varianceNoise[i] } : { generator }) : {};
        return scheduler.step(eps, t, latents, { eta, ...noise }).prevSample as tf.Tensor4D;
      });
      latents.dispose();
      latents = next;
      opts.onStep?.(i, t);
    });
  } catch (error) {
    latents.dispose();
    throw error;
  } finally {
    context.dispose();
  }
  return { images: decodeLatents(vae, latents), latents };
}

/** The text encoder's last hidden states for `prompts`, padded to the tokenizer's length: [B, T, D]. */
export function encodePrompts(c: Pick<SamplingComponents, "textEncoder" | "tokenizer">, prompts: readonly string[]): tf.Tensor3D {
  const { ids, shape } = c.tokenizer.batch(prompts);
  return tf.tidy(() => textLastHiddenState(c.textEncoder, tf.tensor2d(ids, shape, "int32")));
}

/**
 * The UNet's noise prediction at timestep t. With guidanceScale w > 1, `context` is [uncond; cond] (2B rows) and
 * the result is ε_u + w·(ε_c − ε_u) (Ho & Salimans 2022, eq. 6); otherwise `context` has B rows.
 */
export function guidedNoise(
  unet: UNet2DConditionModel,
  latents: tf.Tensor4D,
  t: number,
  context: tf.Tensor3D,
  guidanceScale: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    if (guidanceScale <= 1) return unetForward(unet, latents, t, context); // [B, h, w, C]
    const eps = unetForward(unet, tf.concat([latents, latents]), t, context); // [2B, h, w, C]
    const [uncond, cond] = tf.split(eps, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
    return tf.add(uncond, tf.mul(guidanceScale, tf.sub(cond, uncond)));
  });
}

/** latents [B, h, w, C] → images [B, h·f, w·f, 3] in [0, 1]: decode latents / scaling_factor, map [-1, 1] → [0, 1]. */
export function decodeLatents(vae: AutoencoderKL, latents: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const decoded = vaeDecode(vae, tf.div(latents, vae.config.scaling_factor)); // [B, H, W, 3] ≈ [-1, 1]
    return tf.clipByValue(tf.add(tf.mul(decoded, 0.5), 0.5), 0, 1) as tf.Tensor4D;
  });
}

/** x_T ~ N(0, σ²) of the given shape, drawn from `generator` (row-major over NHWC). */
export function initialLatents(shape: [number, number, number, number], generator: Rng, sigma: number): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.tensor4d(generator.normal(shape.reduce((a, b) => a * b, 1)), shape), sigma));
}

/** Given latents and variance noise must have the shape the prompts and image size imply, and one noise per step. */
function checkGivenNoise(shape: number[], steps: number, eta: number, opts: SampleOptions): void {
  const wrong = (name: string, t: tf.Tensor) =>
    new Error(`${name} has shape [${t.shape}] but ${opts.prompts.length} prompt(s) at this image size need [${shape}] ([B, H/f, W/f, C])`);
  if (opts.latents && !tf.util.arraysEqual(opts.latents.shape, shape)) throw wrong("latents", opts.latents);
  if (!opts.varianceNoise || eta === 0) return;
  if (opts.varianceNoise.length !== steps) {
    throw new Error(`varianceNoise has ${opts.varianceNoise.length} entries but eta=${eta} with ${steps} steps needs one per step`);
  }
  opts.varianceNoise.forEach((z, i) => {
    if (!tf.util.arraysEqual(z.shape, shape)) throw wrong(`varianceNoise[${i}]`, z);
  });
}

function negativesFor(prompts: readonly string[], negatives: string | readonly string[] = ""): string[] {
  if (typeof negatives === "string") return prompts.map(() => negatives);
  if (negatives.length !== prompts.length) {
    throw new Error(`negativePrompts has ${negatives.length} entries but there are ${prompts.length} prompts`);
  }
  return [...negatives];
}

function imageSize(unet: UNet2DConditionModel, vae: AutoencoderKL, height?: number, width?: number): { height: number; width: number } {
  const f = vae.downscale;
  const size = unet.config.sample_size;
  const [h0, w0] = size === null ? [undefined, undefined] : typeof size === "number" ? [size * f, size * f] : [size[0] * f, size[1] * f];
  const h = height ?? h0;
  const w = width ?? w0;
  if (h === undefined || w === undefined) throw new Error("the UNet config has no sample_size: give height and width");
  for (const [name, v] of [["height", h], ["width", w]] as const) {
    if (!Number.isInteger(v) || v <= 0 || v % f !== 0) throw new Error(`${name}=${v} must be a positive multiple of ${f} (the VAE's downscale)`);
  }
  return { height: h, width: w };
}
