/**
 * diffusers' DDIMScheduler in TF.js (Song et al. 2020, "Denoising Diffusion Implicit Models", arXiv:2010.02502),
 * with TRL's `ddim_step_with_logprob` for DDPO: the step can also return log p(x_{t−1} | x_t) of its Gaussian.
 * Every tensor op runs in tf.tidy and is differentiable, so AlignProp can backpropagate through the chain.
 * Schedule constants are float64 JS numbers, turned into tensors only where they meet the samples.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

import * as tf from "@tensorflow/tfjs";

import type { Rng } from "../util/rng.js";
import { alphasCumprodFor, betasFor, timestepsFor, validateDDIMConfig, type DDIMSchedulerConfig } from "./schedule.js";

/** One timestep for the whole batch, or one per batch element (DDPO trains on shuffled steps). */
export type Timesteps = number | readonly number[];

export interface DDIMStepOptions {
  /** η in [0, 1]: 0 is deterministic DDIM, 1 has DDPM's variance. */
  eta?: number;
  /** Draws z for σ_t·z; at most one of generator and varianceNoise. Neither: tf.randomNormal. */
  generator?: Rng;
  /** z itself, shaped like sample. */
  varianceNoise?: tf.Tensor;
  /** A given x_{t−1} (DDPO training): returned as prevSample, and its log-prob computed. */
  prevSample?: tf.Tensor;
  /** Also return the log-prob of the x_{t−1} drawn (implied by prevSample). Needs σ_t > 0, so eta > 0. */
  logProb?: boolean;
}

export interface DDIMStepOutput {
  /** x_{t−1}, shaped like sample. */
  prevSample: tf.Tensor;
  /** x̂₀ (clipped when clip_sample). */
  predOriginalSample: tf.Tensor;
  /** [B] mean over all but the batch dim of log N(x_{t−1}; μ_t, σ_t²). */
  logProb?: tf.Tensor1D;
}

/** log √(2π) */
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** Identity whose gradient is zero: torch's `.detach()`. */
const detach = tf.customGrad((x) => ({ value: (x as tf.Tensor).clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }));

/** Per-sample constants as [B, 1, …, 1] so they broadcast over a rank-`rank` batch; a scalar when shared. */
function perSample(values: readonly number[], rank: number): tf.Tensor {
  if (values.length === 1) return tf.scalar(values[0]!);
  return tf.tensor(values as number[], [values.length, ...new Array<number>(rank - 1).fill(1)]);
}

export class DDIMScheduler {
  readonly config: Readonly<DDIMSchedulerConfig>;
  /** β_t, t = 0 … T−1. */
  readonly betas: Float64Array;
  /** ᾱ_t = ∏_{s ≤ t} (1 − β_s). */
  readonly alphasCumprod: Float64Array;
  /** ᾱ for a step that lands before t = 0: 1 if set_alpha_to_one, else ᾱ_0. */
  readonly finalAlphaCumprod: number;
  /** x_T ~ N(0, initNoiseSigma²). */
  readonly initNoiseSigma = 1;
  numInferenceSteps: number | null = null;
  /** Descending; every training step until setTimesteps. */
  timesteps: number[];

  constructor(config: Readonly<Record<string, unknown>> = {}) {
    this.config = Object.freeze(validateDDIMConfig(config));
    this.betas = betasFor(this.config);
    this.alphasCumprod = alphasCumprodFor(this.betas);
    this.finalAlphaCumprod = this.config.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.timesteps = Array.from({ length: this.config.num_train_timesteps }, (_, i) => this.config.num_train_timesteps - 1 - i);
  }

  /**
   * Reads `<dir>/scheduler_config.json`. Any scheduler class's config is accepted (SD1.5 ships a PNDM one), as
   * diffusers' `DDIMScheduler.from_config` does.
   */
  static async fromPretrained(dir: string): Promise<DDIMScheduler> {
    const path = join(dir, "scheduler_config.json");
    let json: unknown;
    try {
      json = JSON.parse(await readFile(path, "utf8"));
    } catch (error) {
      throw new Error(`cannot read scheduler config ${path}: ${(error as Error).message}`);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new Error(`scheduler config ${path} is not a JSON object`);
    }
    return new DDIMScheduler(json as Record<string, unknown>);
  }

  /** Chooses the N timesteps of the sampling chain (see timestepsFor for the three spacings). */
  setTimesteps(numInferenceSteps: number): void {
    const total = this.config.num_train_timesteps;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > total) {
      throw new Error(`num_inference_steps=${numInferenceSteps} must be an integer in [1, ${total}] (num_train_timesteps)`);
    }
    this.numInferenceSteps = numInferenceSteps;
    this.timesteps = timestepsFor(this.config, numInferenceSteps);
  }

  /** One reverse step x_t → x_{t−1}, numbered as in diffusers' DDIMScheduler.step. */
  step(modelOutput: tf.Tensor, timestep: Timesteps, sample: tf.Tensor, options: DDIMStepOptions = {}): DDIMStepOutput {
    const n = this.numInferenceSteps;
    if (n === null) throw new Error("DDIMScheduler.step: call setTimesteps(numInferenceSteps) first");
    const { eta = 0, generator, varianceNoise, prevSample } = options;
    const withLogProb = prevSample !== undefined || options.logProb === true;
    this.checkStepInputs(modelOutput, sample, eta, options);
    const ts = this.timestepList(timestep, sample);

    // 1. previous timestep: t − ⌊T/N⌋ (diffusers uses this rule for every timestep_spacing)
    const prevTs = ts.map((t) => t - Math.floor(this.config.num_train_timesteps / n));
    // 2. ᾱ_t and ᾱ_{t−1}; a step past t = 0 lands on final_alpha_cumprod
    const alphaT = ts.map((t) => this.alphasCumprod[t]!);
    const alphaPrev = prevTs.map((p) => (p >= 0 ? this.alphasCumprod[p]! : this.finalAlphaCumprod));
    // 5. σ_t(η) = η·√((1 − ᾱ_{t−1})/(1 − ᾱ_t))·√(1 − ᾱ_t/ᾱ_{t−1}), formula (16)
    const sigma = alphaT.map((a, i) => eta * Math.sqrt(((1 - alphaPrev[i]!) / (1 - a)) * (1 - a / alphaPrev[i]!)));
    if (withLogProb && !sigma.every((s) => s > 0)) {
      throw new Error(`log-prob needs σ_t > 0, but eta=${eta} at timestep=${JSON.stringify(timestep)} gives σ_t=${sigma.join(", ")}`);
    }

    return tf.tidy(() => {
      const c = (values: readonly number[]) => perSample(values, sample.rank);
      // 3. "predicted x_0" of formula (12), and the ε̂ it implies
      const { x0, eps } = this.predictOriginal(modelOutput, sample, alphaT, c);
      // 4. clip x̂₀ to ±clip_sample_range
      const range = this.config.clip_sample_range;
      const predOriginalSample = this.config.clip_sample ? tf.clipByValue(x0, -range, range) : x0;
      // 6. "direction pointing to x_t" of formula (12): √(1 − ᾱ_{t−1} − σ_t²)·ε̂ (clamped at 0 against rounding)
      const dirScale = alphaPrev.map((a, i) => Math.sqrt(Math.max(0, 1 - a - sigma[i]! ** 2)));
      const direction = tf.mul(c(dirScale), eps);
      // 7. x_{t−1} without "random noise" of formula (12): μ_t = √ᾱ_{t−1}·x̂₀ + direction
      const mean = tf.add(tf.mul(c(alphaPrev.map(Math.sqrt)), predOriginalSample), direction);
      // 8. x_{t−1} = μ_t + σ_t·z, formula (12)'s random noise; or the given x_{t−1}
      let prev = mean;
      if (prevSample) prev = prevSample.clone();
      else if (eta > 0) prev = tf.add(mean, tf.mul(c(sigma), this.noise(sample, generator, varianceNoise)));
      if (!withLogProb) return { prevSample: prev, predOriginalSample };
      // 9. log N(x_{t−1}; μ_t, σ_t²) = −(x − μ)²/(2σ²) − log σ − log √(2π), averaged per sample; x detached (TRL)
      const axes = Array.from({ length: sample.rank - 1 }, (_, i) => i + 1);
      const scaledSq = tf.mul(tf.square(tf.sub(detach(prev), mean)), c(sigma.map((s) => 1 / (2 * s * s))));
      const norm = perSample(sigma.map((s) => Math.log(s) + LOG_SQRT_2PI), 1);
      const logProb = tf.sub(tf.neg(tf.mean(scaledSq, axes)), norm) as tf.Tensor1D; // [B]
      return { prevSample: prev, predOriginalSample, logProb };
    });
  }

  /** Forward process q(x_t | x_0): x_t = √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε (DDPM, Ho et al. 2020, eq. 4). */
  addNoise(originalSamples: tf.Tensor, noise: tf.Tensor, timesteps: Timesteps): tf.Tensor {
    const alpha = this.timestepList(timesteps, originalSamples).map((t) => this.alphasCumprod[t]!);
    return tf.tidy(() => {
      const c = (values: readonly number[]) => perSample(values, originalSamples.rank);
      return tf.add(tf.mul(c(alpha.map(Math.sqrt)), originalSamples), tf.mul(c(alpha.map((a) => Math.sqrt(1 - a))), noise));
    });
  }

  /** The v-prediction target v = √ᾱ_t·ε − √(1 − ᾱ_t)·x₀ (Salimans & Ho 2022, §4). */
  getVelocity(sample: tf.Tensor, noise: tf.Tensor, timesteps: Timesteps): tf.Tensor {
    const alpha = this.timestepList(timesteps, sample).map((t) => this.alphasCumprod[t]!);
    return tf.tidy(() => {
      const c = (values: readonly number[]) => perSample(values, sample.rank);
      return tf.sub(tf.mul(c(alpha.map(Math.sqrt)), noise), tf.mul(c(alpha.map((a) => Math.sqrt(1 - a))), sample));
    });
  }

  /** x̂₀ and ε̂ from the model output, for each prediction_type. */
  private predictOriginal(
    modelOutput: tf.Tensor,
    sample: tf.Tensor,
    alphaT: readonly number[],
    c: (values: readonly number[]) => tf.Tensor,
  ): { x0: tf.Tensor; eps: tf.Tensor } {
    const sqrtAlpha = c(alphaT.map(Math.sqrt)); // √ᾱ_t
    const sqrtBeta = c(alphaT.map((a) => Math.sqrt(1 - a))); // √(1 − ᾱ_t)
    switch (this.config.prediction_type) {
      case "epsilon": // x̂₀ = (x_t − √(1 − ᾱ_t)·ε̂)/√ᾱ_t
        return { x0: tf.div(tf.sub(sample, tf.mul(sqrtBeta, modelOutput)), sqrtAlpha), eps: modelOutput };
      case "sample": // ε̂ = (x_t − √ᾱ_t·x̂₀)/√(1 − ᾱ_t)
        return { x0: modelOutput, eps: tf.div(tf.sub(sample, tf.mul(sqrtAlpha, modelOutput)), sqrtBeta) };
      case "v_prediction": // x̂₀ = √ᾱ_t·x_t − √(1 − ᾱ_t)·v, ε̂ = √ᾱ_t·v + √(1 − ᾱ_t)·x_t
        return {
          x0: tf.sub(tf.mul(sqrtAlpha, sample), tf.mul(sqrtBeta, modelOutput)),
          eps: tf.add(tf.mul(sqrtAlpha, modelOutput), tf.mul(sqrtBeta, sample)),
        };
    }
  }

  private noise(sample: tf.Tensor, generator: Rng | undefined, varianceNoise: tf.Tensor | undefined): tf.Tensor {
    if (varianceNoise) return varianceNoise;
    if (generator) return tf.tensor(generator.normal(sample.size), sample.shape);
    return tf.randomNormal(sample.shape);
  }

  private checkStepInputs(modelOutput: tf.Tensor, sample: tf.Tensor, eta: number, options: DDIMStepOptions): void {
    if (!(eta >= 0 && eta <= 1)) throw new Error(`eta=${eta} must be in [0, 1]`);
    const given = (["generator", "varianceNoise", "prevSample"] as const).filter((k) => options[k] !== undefined);
    if (given.length > 1) throw new Error(`step options ${given.join(" and ")} exclude each other; give at most one`);
    const shaped = { modelOutput, varianceNoise: options.varianceNoise, prevSample: options.prevSample };
    for (const [name, t] of Object.entries(shaped)) {
      if (t && !tf.util.arraysEqual(t.shape, sample.shape)) {
        throw new Error(`${name} has shape [${t.shape}] but sample has shape [${sample.shape}]`);
      }
    }
  }

  /** The timesteps as a list of 1 (shared) or B (per sample) valid training steps. */
  private timestepList(timesteps: Timesteps, sample: tf.Tensor): readonly number[] {
    const list = typeof timesteps === "number" ? [timesteps] : timesteps;
    const batch = sample.shape[0];
    if (typeof timesteps !== "number" && list.length !== batch) {
      throw new Error(`timesteps has ${list.length} entries but the batch has ${batch}`);
    }
    const last = this.config.num_train_timesteps - 1;
    for (const t of list) {
      if (!Number.isInteger(t) || t < 0 || t > last) throw new Error(`timestep=${t} must be an integer in [0, ${last}]`);
    }
    return list;
  }
}

/** Stable Diffusion 1.5's training schedule as a DDIM config (../shared/reference/sd15's scheduler settings). */
export const SD15_DDIM_CONFIG = Object.freeze({
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  num_train_timesteps: 1000,
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  prediction_type: "epsilon",
  timestep_spacing: "leading",
});
