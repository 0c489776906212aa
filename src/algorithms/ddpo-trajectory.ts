/**
 * The two halves of DDPO's use of the sampler (TRL's `pipeline_step` and `scheduler_step` with log-probs):
 * - `sampleTrajectory`: the DDIM chain with guidance, off the tape, keeping every latent x_T … x_0 and each step's
 *   log p(x_{t−1} | x_t) under the weights that sampled it;
 * - `stepLogProb`: log p(x_{t−1} | x_t) of stored latent pairs under the current weights, at one timestep per
 *   sample (training shuffles timesteps independently per sample), differentiable in the LoRA weights.
 */
import * as tf from "@tensorflow/tfjs";
import type { DDIMScheduler } from "../diffusion/ddim.js";
import type { Chain } from "../diffusion/differentiable-sampler.js";
import { guidedNoise } from "../diffusion/pipeline-sample.js";
import { unetForward } from "../models/traced.js";
import type { UNet2DConditionModel } from "../models/unet/unet-2d-condition.js";

export interface Trajectory {
  /** [B, S+1, h, w, C]: x_T, then the latent after each of the S steps (x_0 last). */
  latents: tf.Tensor5D;
  /** [B, S]: log-prob of step i's output given its input, under the sampling weights. */
  logProbs: tf.Tensor2D;
}

/** Runs the chain from x_T with the pre-drawn noise of `c` (eta > 0), recording latents and log-probs. */
export function sampleTrajectory(c: Chain, xT: tf.Tensor4D): Trajectory {
  if (c.noise.length !== c.scheduler.timesteps.length) {
    throw new Error(`the chain has ${c.scheduler.timesteps.length} steps but ${c.noise.length} noise tensors`);
  }
  return tf.tidy(() => {
    const latents: tf.Tensor4D[] = [xT];
    const logProbs: tf.Tensor1D[] = [];
    c.scheduler.timesteps.forEach((t, i) => {
      const x = latents[i]!;
      const eps = guidedNoise(c.unet, x, t, c.context, c.guidanceScale); // [B, h, w, C]
      const out = c.scheduler.step(eps, t, x, { eta: c.eta, varianceNoise: c.noise[i], logProb: true });
      latents.push(out.prevSample as tf.Tensor4D);
      logProbs.push(out.logProb!);
    });
    return { latents: tf.stack(latents, 1) as tf.Tensor5D, logProbs: tf.stack(logProbs, 1) as tf.Tensor2D };
  });
}

/** What recomputing a step's log-prob needs besides the latents. */
export interface StepModel {
  unet: UNet2DConditionModel;
  /** With `setTimesteps` called as for sampling. */
  scheduler: DDIMScheduler;
  /** [2B, T, D] = [negative; prompt] when guidanceScale > 1, else [B, T, D]. */
  context: tf.Tensor3D;
  guidanceScale: number;
  eta: number;
}

/**
 * log p_θ(next | latents) [B] for one DDIM step per sample at `timesteps[b]`: the guided noise prediction of the
 * current UNet (as `guidedNoise`, with a timestep per sample), then the scheduler's Gaussian at the given x_{t−1}
 * (TRL's `calculate_loss`).
 */
export function stepLogProb(m: StepModel, latents: tf.Tensor4D, timesteps: readonly number[], next: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const t = tf.tensor1d(timesteps as number[]); // [B]
    let eps: tf.Tensor4D;
    if (m.guidanceScale <= 1) eps = unetForward(m.unet, latents, t, m.context); // [B, h, w, C]
    else {
      const both = unetForward(m.unet, tf.concat([latents, latents]), tf.concat([t, t]), m.context); // [2B, h, w, C]
      const [uncond, cond] = tf.split(both, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
      eps = tf.add(uncond, tf.mul(m.guidanceScale, tf.sub(cond, uncond)));
    }
    return m.scheduler.step(eps, timesteps, latents, { eta: m.eta, prevSample: next }).logProb!;
  });
}
