/**
 * AlignProp's sampling chain: DDIM with classifier-free guidance from x_T to x_0, with the gradient kept only
 * through the steps truncated backpropagation keeps (Prabhudesai et al. 2023, §4.2).
 *
 * Which steps are kept (`keptSteps`):
 * - fixed: steps with index ≥ `truncated_backprop_timestep`.
 * - random, once per chain (default): one cut c ~ U{min … max}, steps with index ≥ c. This is what the AlignProp
 *   authors' TRL-based code does (mihirp1998/AlignProp `sd_pipeline.py` draws `backprop_timestep` once before the
 *   denoising loop).
 * - random, per step (`truncated_backprop_per_step`, TRL's behaviour): TRL's `pipeline_step_with_grad`
 *   (trl/models/modeling_sd_base.py, before commit 78f1a928c) calls `random.randint(min, max)` inside the loop, so
 *   each step i is kept independently with probability P(c ≤ i) = (i − min + 1)/(max − min + 1): the kept steps are
 *   a random subset, not a suffix, and fewer late steps are kept than the docs' "truncate at a random step" suggests.
 *   (The authors' original main.py did the same; their later code moved the draw out of the loop.)
 *
 * Only the UNet's output is cut at a step that is not kept (TRL: `noise_pred = noise_pred.detach()`); the latents
 * stay differentiable through the scheduler's linear update. Steps before the first kept one therefore carry no
 * gradient at all and run off the tape, here, before the gradient pass. A step after it that is not kept (per-step
 * mode only) runs its UNet off the tape but passes the gradient along x_t → x_{t−1}.
 *
 * The KL-style regulariser (`Chain.kl`, the run config's `kl_coeff`; DPOK's and DDPO-with-KL's answer to reward
 * over-optimisation): at every kept step the base UNet's guided prediction ε̂_base(x_t) (the same UNet with its LoRA
 * adapters off, computed off the tape) is compared with the adapted one, and the objective becomes
 *   loss(x_0) + coeff · kl,   kl = mean over the kept steps of mean_{B,h,w,C} (ε̂_θ(x_t) − ε̂_base(x_t))².
 * For DDIM steps with the same σ_t, each step's KL between the adapted and the base Gaussian transition is
 * proportional to that squared distance. ε̂_base is a constant target (no gradient; x_t as the adapted chain visits
 * it), so the penalty pulls the adapted predictions towards the base ones.
 */
import * as tf from "@tensorflow/tfjs";
import { gradients } from "../tf/gradients.js";
import type { LoraAdapters } from "../models/lora.js";
import type { UNet2DConditionModel } from "../models/unet/unet-2d-condition.js";
import { checkpointedGrads, segmentOutput, type Segment } from "../tf/checkpoint.js";
import { tracedGraphsActive } from "../tf/ort/traced-call.js";
import { phase } from "../util/phase.js";
import type { Rng } from "../util/rng.js";
import type { DDIMScheduler } from "./ddim.js";
import { guidedNoise } from "./pipeline-sample.js";

/** Latent [height, width] from the UNet's `sample_size`, which a training job needs to draw x_T. */
export function latentSizeOf(unet: UNet2DConditionModel, algorithm: string): [number, number] {
  const size = unet.config.sample_size;
  if (size === null) throw new Error(`the UNet config has no sample_size: ${algorithm} needs it to draw latents`);
  return typeof size === "number" ? [size, size] : [size[0], size[1]];
}

export interface Truncation {
  /** Random cut (true) or the fixed `timestep`. */
  rand: boolean;
  /** Fixed cut: steps with index ≥ this keep their gradient. */
  timestep: number;
  /** Random cut drawn uniformly from these integers, both included (Python's random.randint). */
  minmax: readonly [number, number];
  /** Redraw the random cut at every step (TRL) instead of once per chain. */
  perStep: boolean;
}

/** keep[i]: step i's UNet output carries gradient. Random draws come from `rng`. */
export function keptSteps(numSteps: number, t: Truncation, rng: Rng): boolean[] {
  const [min, max] = t.minmax;
  const draw = () => min + rng.int(max - min + 1);
  if (!t.rand) return Array.from({ length: numSteps }, (_, i) => i >= t.timestep);
  if (t.perStep) return Array.from({ length: numSteps }, (_, i) => i >= draw());
  const cut = draw();
  return Array.from({ length: numSteps }, (_, i) => i >= cut);
}

/** Everything one chain needs besides its starting latents. */
export interface Chain {
  unet: UNet2DConditionModel;
  /** With `setTimesteps` already called: step i denoises at `scheduler.timesteps[i]`. */
  scheduler: DDIMScheduler;
  /** [2B, T, D] = [negative; prompt] when guidanceScale > 1, else [B, T, D]. */
  context: tf.Tensor3D;
  guidanceScale: number;
  eta: number;
  /** z for each step's σ_t·z, drawn beforehand so a recomputed step sees the same values; empty when eta = 0. */
  noise: readonly tf.Tensor4D[];
  /** The KL term: `adapters` are the UNet's LoRA (set to 0 for the base prediction), `coeff` its weight in the objective. */
  kl?: { adapters: LoraAdapters; coeff: number };
}

/** f(x) computed off the tape: a constant to backpropagation (torch's `.detach()`), keeping no activations. */
const offTape = (f: (x: tf.Tensor4D) => tf.Tensor4D): ((x: tf.Tensor4D) => tf.Tensor4D) =>
  tf.customGrad((...inputs) => {
    const x = inputs[0] as tf.Tensor4D;
    return { value: f(x), gradFunc: () => tf.zerosLike(x) };
  });

/** ε̂ = ε_u + w·(ε_c − ε_u), or the text-conditioned ε when w ≤ 1: the sampling pipeline's guidance. */
const guided = (c: Chain, x: tf.Tensor4D, t: number) => guidedNoise(c.unet, x, t, c.context, c.guidanceScale);

/** One DDIM step x_t → x_{t−1}; with `keep` false the UNet output is detached. */
export function denoiseStep(c: Chain, i: number, x: tf.Tensor4D, keep: boolean): tf.Tensor4D {
  const t = c.scheduler.timesteps[i]!;
  return tf.tidy(() => {
    const eps = keep ? guided(c, x, t) : offTape((xt) => guided(c, xt, t))(x);
    const varianceNoise = c.eta > 0 ? c.noise[i] : undefined;
    return c.scheduler.step(eps, t, x, { eta: c.eta, varianceNoise }).prevSample as tf.Tensor4D;
  });
}

export interface ChainGradients {
  /** The objective: loss(x_0), plus coeff · kl with `Chain.kl`. */
  value: tf.Scalar;
  /** d value / d vars[i]; zeros when no step is kept. */
  grads: tf.Tensor[];
  /** With `Chain.kl`: the mean over the kept steps of the squared distance to the base prediction (0 when none is kept). */
  kl?: tf.Scalar;
}

/**
 * A kept step that also returns its KL penalty, mean (ε̂_θ − ε̂_base)². ε̂_base is computed once per step, off the
 * tape, and cached in `base` (a checkpointed step runs twice: forward, then recomputed in backward).
 */
function klStep(c: Chain, adapters: LoraAdapters, base: Map<number, tf.Tensor4D>, i: number, x: tf.Tensor4D) {
  const t = c.scheduler.timesteps[i]!;
  return tf.tidy(() => {
    if (!base.has(i)) base.set(i, tf.keep(adapters.withLoraScale(0, () => offTape((xt) => guided(c, xt, t))(x))));
    const eps = guided(c, x, t);
    const penalty = tf.mean(tf.squaredDifference(eps, base.get(i)!)) as tf.Scalar;
    const varianceNoise = c.eta > 0 ? c.noise[i] : undefined;
    return { y: c.scheduler.step(eps, t, x, { eta: c.eta, varianceNoise }).prevSample as tf.Tensor4D, penalty };
  });
}

/**
 * Samples x_0 from x_T and returns loss(x_0) with its gradient for `vars`, through the kept steps only. With
 * `checkpointing` each kept step is a segment recomputed in the backward pass (only the latents between steps are
 * held), else the whole kept part stays on one tape. When the UNet runs as traced ORT graphs (src/models/traced.ts)
 * the tape already holds only each call's inputs and the backward graph recomputes the forward, so the one-tape
 * path is taken: checkpointing's memory at no extra forward pass.
 */
export function chainGradients(
  c: Chain,
  keep: readonly boolean[],
  xT: tf.Tensor4D,
  loss: (x0: tf.Tensor4D) => tf.Scalar,
  vars: readonly tf.Variable[],
  checkpointing: boolean,
): ChainGradients {
  if (keep.length !== c.scheduler.timesteps.length) {
    throw new Error(`keep has ${keep.length} entries but the scheduler has ${c.scheduler.timesteps.length} timesteps`);
  }
  if (c.eta > 0 && c.noise.length !== keep.length) throw new Error(`eta=${c.eta} needs ${keep.length} noise tensors, got ${c.noise.length}`);
  const first = keep.includes(true) ? keep.indexOf(true) : keep.length;
  // Steps before the first kept one: no gradient can reach them, so they run here, off the tape.
  const start = phase("unet_no_grad", () => tf.tidy(() => keep.slice(0, first).reduce((x, _, i) => denoiseStep(c, i, x, false), xT)));
  const kept = keep.filter(Boolean).length;
  const base = new Map<number, tf.Tensor4D>();
  const kl = c.kl;
  const segments: Segment[] = keep.slice(first).map((k, j) => (x) =>
    phase(k ? "unet_grad" : "unet_no_grad", () =>
      kl && k ? klStep(c, kl.adapters, base, first + j, x as tf.Tensor4D) : denoiseStep(c, first + j, x as tf.Tensor4D, k),
    ),
  );
  const lossOf = (x: tf.Tensor) => loss(x as tf.Tensor4D);
  // kl = Σ penalties / kept, weighted by coeff in the objective.
  const weight = kl ? kl.coeff / kept : 0;
  const withKl = (r: ChainGradients, penalty: tf.Scalar | undefined): ChainGradients => {
    if (!kl) {
      penalty?.dispose();
      return r;
    }
    const mean = penalty && kept ? tf.div(penalty, kept) : tf.scalar(0);
    penalty?.dispose();
    return { ...r, kl: mean as tf.Scalar };
  };
  try {
    if (segments.length === 0) return withKl({ value: lossOf(start), grads: vars.map((v) => tf.zerosLike(v)) }, undefined);
    if (checkpointing && !tracedGraphsActive()) {
      const { value, grads, penalty } = phase("backward", () => checkpointedGrads(segments, start, lossOf, vars, weight));
      return withKl({ value, grads }, penalty);
    }
    let penalty: tf.Scalar | undefined;
    const { value, grads } = phase("backward", () => gradients(
      () => {
        const penalties: tf.Scalar[] = [];
        const x0 = segments.reduce((x, s) => {
          const out = segmentOutput(s(x));
          if (out.penalty) penalties.push(out.penalty);
          return out.y;
        }, start as tf.Tensor);
        if (!penalties.length) return lossOf(x0);
        penalty = tf.keep(tf.addN(penalties));
        return tf.add(lossOf(x0), tf.mul(penalty, weight)) as tf.Scalar;
      },
      [...vars],
    ));
    return withKl({ value: value as tf.Scalar, grads: vars.map((v, i) => grads[i] ?? tf.zerosLike(v)) }, penalty);
  } finally {
    tf.dispose([...base.values()]);
  }
}
