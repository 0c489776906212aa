/**
 * Gradient checkpointing for a chain of segments x₀ → x₁ → … → x_N → loss (in AlignProp: one segment per kept
 * denoising step, latents in and latents out). The forward pass keeps only the boundary activations x_i; the
 * backward pass walks the segments last to first, re-running each with the tape on and pulling dy through it with
 * `gradients(f, xs, dy)` (gradients.ts). Peak memory is the boundaries plus one segment's activations instead of every
 * segment's.
 *
 * Segments must be deterministic (draw noise before, not inside: the recomputation must see the same values), and
 * this runs its own gradient passes, so it cannot itself sit inside tf.grads or tf.customGrad (nesting tf.grads
 * inside tf.customGrad breaks the tape in TF.js 4.22).
 */
import * as tf from "@tensorflow/tfjs";
import { gradients } from "./gradients.js";

/**
 * One segment of the chain: a pure function of its input and of tensors it closes over (weights, conditioning). It
 * may also return a penalty, a scalar that `checkpointedGrads` adds, weighted, to the objective (AlignProp's KL term
 * on a kept step).
 */
export type Segment = (x: tf.Tensor) => tf.Tensor | SegmentOutput;

export interface SegmentOutput {
  y: tf.Tensor;
  penalty: tf.Scalar;
}

/** A segment's output and penalty, whichever form it returned. */
export function segmentOutput(out: tf.Tensor | SegmentOutput): { y: tf.Tensor; penalty?: tf.Scalar } {
  return out instanceof tf.Tensor ? { y: out } : out;
}

export interface CheckpointedGrads {
  /** The objective: loss + penaltyWeight · penalty. */
  value: tf.Scalar;
  /** d value / d params[i], in the order given; zeros for a tensor the chain does not use. */
  grads: tf.Tensor[];
  /** d value / d input. */
  inputGrad: tf.Tensor;
  /** The sum of the segments' penalties, unweighted (0 when none returns one). */
  penalty: tf.Scalar;
}

/**
 * loss(segments[N-1](…segments[0](input))) + penaltyWeight · Σ penalties, and its gradients for `params` (the tensors
 * the segments and the loss close over that need gradients), keeping only segment boundaries between the forward and
 * backward passes.
 */
export function checkpointedGrads(
  segments: readonly Segment[],
  input: tf.Tensor,
  loss: (y: tf.Tensor) => tf.Scalar,
  params: readonly tf.Tensor[],
  penaltyWeight = 0,
): CheckpointedGrads {
  if (segments.length === 0) throw new Error("checkpointedGrads: segments is empty; give at least one segment");
  // Forward without a tape: only the boundaries x₀…x_N and the penalties' sum survive.
  const boundaries: tf.Tensor[] = [input];
  const penalized: boolean[] = [];
  let penalty = tf.scalar(0);
  for (const segment of segments) {
    const x = boundaries[boundaries.length - 1]!;
    const out = tf.tidy(() => segmentOutput(segment(x)));
    boundaries.push(out.y);
    penalized.push(out.penalty !== undefined);
    if (out.penalty) {
      const sum = tf.add(penalty, out.penalty) as tf.Scalar;
      tf.dispose([penalty, out.penalty]);
      penalty = sum;
    }
  }

  const accumulate = (into: tf.Tensor[], grads: (tf.Tensor | undefined)[]) =>
    grads.map((g, i) => {
      if (!g) return into[i]!;
      const sum = tf.add(into[i]!, g);
      tf.dispose([into[i]!, g]);
      return sum;
    });

  let totals = params.map((p) => tf.zerosLike(p));
  const top = gradients(() => loss(boundaries[segments.length]!), [boundaries[segments.length]!, ...params]);
  const value = tf.tidy(() => tf.add(top.value, tf.mul(penalty, penaltyWeight))) as tf.Scalar;
  top.value.dispose();
  let dy = top.grads[0] ?? tf.zerosLike(boundaries[segments.length]!);
  totals = accumulate(totals, top.grads.slice(1));
  boundaries.pop()!.dispose();

  // Backward, last segment first, recomputing each from its saved input.
  for (let i = segments.length - 1; i >= 0; i--) {
    const x = boundaries[i]!;
    const step = penalized[i]
      ? // dy·y + w·penalty: its gradient is dy pulled through the segment plus the weighted penalty's own.
        gradients(() => {
          const { y, penalty } = segmentOutput(segments[i]!(x));
          return tf.add(tf.sum(tf.mul(y, dy)), tf.mul(penalty!, penaltyWeight)) as tf.Scalar;
        }, [x, ...params])
      : gradients(() => segmentOutput(segments[i]!(x)).y, [x, ...params], dy);
    step.value.dispose();
    dy.dispose();
    dy = step.grads[0] ?? tf.zerosLike(x);
    totals = accumulate(totals, step.grads.slice(1));
    if (i > 0) boundaries.pop()!.dispose();
  }
  return { value, grads: totals, inputGrad: dy, penalty };
}

/**
 * fn(...inputs) as one op whose backward pass re-runs fn instead of keeping its activations (torch.utils.checkpoint):
 * the tape holds only the inputs. `params` are the tensors fn closes over that need gradients (its trainable weights).
 * This is a `tf.customGrad` whose gradient is a `gradients` pass of its own, so the pass around it must be
 * `gradients` (gradients.ts) or TF.js's, not a `tf.customGrad`'s.
 */
export function checkpointCall<T extends tf.Tensor>(fn: (...xs: tf.Tensor[]) => T, inputs: readonly tf.Tensor[], params: readonly tf.Tensor[]): T {
  const n = inputs.length;
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.at(-1) as tf.GradSaveFunc;
    const xs = args.slice(0, n) as tf.Tensor[];
    save(xs);
    return {
      value: fn(...xs),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const all = [...saved, ...params];
        const { value, grads } = gradients(() => fn(...saved), all, dy as tf.Tensor);
        value.dispose();
        return grads.map((g, i) => g ?? tf.zerosLike(all[i]!));
      },
    };
  });
  return op(...inputs, ...params) as T;
}
