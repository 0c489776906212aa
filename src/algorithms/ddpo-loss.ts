/**
 * DDPO's per-timestep objective (Black et al. 2023, "Training Diffusion Models with Reinforcement Learning",
 * arXiv:2305.13301, §4.3), as TRL's DDPOTrainer.calculate_loss computes it: PPO's clipped surrogate over the
 * probability ratio of one denoising step under the current and the sampling weights.
 */
import * as tf from "@tensorflow/tfjs";

export interface PpoClip {
  /** Ratios further than this from 1 are clipped (TRL's train_clip_range). */
  clipRange: number;
  /** Advantages are clipped to ±this first (TRL's train_adv_clip_max). */
  advClipMax: number;
}

/**
 * mean over the batch of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)), with ρ = exp(log p_θ − log p_old) and A clipped to
 * ±advClipMax. Differentiable in `logProb` [B]; `oldLogProb` and `advantages` [B] are constants.
 */
export function ppoClipLoss(logProb: tf.Tensor1D, oldLogProb: tf.Tensor1D, advantages: tf.Tensor1D, clip: PpoClip): tf.Scalar {
  return tf.tidy(() => {
    const a = tf.clipByValue(advantages, -clip.advClipMax, clip.advClipMax);
    const ratio = tf.exp(tf.sub(logProb, oldLogProb));
    const unclipped = tf.mul(tf.neg(a), ratio);
    const clipped = tf.mul(tf.neg(a), tf.clipByValue(ratio, 1 - clip.clipRange, 1 + clip.clipRange));
    return tf.mean(tf.maximum(unclipped, clipped));
  });
}

export interface PpoStats {
  /** ½·mean (log p_θ − log p_old)², TRL's approx_kl. */
  approxKl: number;
  /** Share of samples whose ratio left [1 − ε, 1 + ε], TRL's clipfrac. */
  clipFraction: number;
}

/** TRL's diagnostics of one PPO minibatch, from the log-probs as numbers. */
export function ppoStats(logProb: ArrayLike<number>, oldLogProb: ArrayLike<number>, clipRange: number): PpoStats {
  const n = logProb.length;
  let kl = 0;
  let clipped = 0;
  for (let i = 0; i < n; i++) {
    const d = logProb[i]! - oldLogProb[i]!;
    kl += d * d;
    if (Math.abs(Math.exp(d) - 1) > clipRange) clipped++;
  }
  return { approxKl: (0.5 * kl) / n, clipFraction: clipped / n };
}
