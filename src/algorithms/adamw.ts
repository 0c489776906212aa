/**
 * PyTorch's `torch.optim.AdamW` (Loshchilov & Hutter 2019), the optimizer TRL's AlignPropTrainer builds, update for
 * update (decay first, then Adam with PyTorch's placement of ε):
 *
 *   θ ← θ·(1 − lr·λ)
 *   m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * The bias corrections are float64 numbers of the step count t, so an optimizer restored from (t, m, v) continues
 * bit for bit (TF.js's own Adam keeps running float32 products β^t that a restore recomputes differently).
 */
import * as tf from "@tensorflow/tfjs";
import type { RunConfig } from "../config/index.js";

/** The optimizer's settings under TRL's config names. */
export type AdamWConfig = Pick<
  RunConfig,
  "train_learning_rate" | "train_adam_beta1" | "train_adam_beta2" | "train_adam_epsilon" | "train_adam_weight_decay"
>;

export interface AdamWOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  weightDecay: number;
}

export class AdamW {
  /** Updates applied so far (PyTorch's `state["step"]`). */
  stepCount = 0;
  /** First and second moments, one per parameter, shaped like it. */
  readonly expAvg: tf.Variable[];
  readonly expAvgSq: tf.Variable[];

  constructor(
    readonly params: readonly tf.Variable[],
    readonly options: AdamWOptions,
  ) {
    const zeros = () => params.map((p) => tf.tidy(() => tf.variable(tf.zerosLike(p), false)));
    this.expAvg = zeros();
    this.expAvgSq = zeros();
  }

  /** AdamW over `params` with the run config's settings. */
  static fromConfig(params: readonly tf.Variable[], c: AdamWConfig): AdamW {
    return new AdamW(params, {
      learningRate: c.train_learning_rate,
      beta1: c.train_adam_beta1,
      beta2: c.train_adam_beta2,
      epsilon: c.train_adam_epsilon,
      weightDecay: c.train_adam_weight_decay,
    });
  }

  /** One update with `grads[i]` for `params[i]`. */
  apply(grads: readonly tf.Tensor[]): void {
    if (grads.length !== this.params.length) throw new Error(`AdamW: ${grads.length} gradients for ${this.params.length} parameters`);
    const { learningRate: lr, beta1, beta2, epsilon, weightDecay } = this.options;
    const t = ++this.stepCount;
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = grads[i]!;
        const m = this.expAvg[i]!;
        const v = this.expAvgSq[i]!;
        p.assign(tf.mul(p, 1 - lr * weightDecay));
        m.assign(tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1)));
        v.assign(tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), bc2Sqrt), epsilon);
        p.assign(tf.sub(p, tf.mul(tf.div(m, denom), stepSize)));
      });
    });
  }

  dispose(): void {
    for (const v of [...this.expAvg, ...this.expAvgSq]) v.dispose();
  }
}
