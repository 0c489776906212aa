/**
 * Gradient checkpointing for a chain of segments x₀ → x₁ → … → x_N → loss (in AlignProp: one segment per kept
 * denoising step, latents in and latents out). The forward pass keeps only the boundary activations x_i; the
 * backward pass walks the segments last to first, re-running each with the tape on and pulling dy through it with
 * `engine.gradients(f, xs, dy)`. Peak memory is the boundaries plus one segment's activations instead of every
 * segment's.
 *
 * Segments must be deterministic (draw noise before, not inside: the recomputation must see the same values), and
 * this runs its own gradient passes, so it cannot itself sit inside tf.grads or tf.customGrad (nesting tf.grads
 * inside tf.customGrad breaks the tape in TF.js 4.22).
 */
import * as tf from "@tensorflow/tfjs";

/** One segment of the chain: a pure function of its input and of tensors it closes over (weights, conditioning). */
export type Segment = (x: tf.Tensor) => tf.Tensor;

export interface CheckpointedGrads {
  /** The loss. */
  value: tf.Scalar;
  /** d loss / d params[i], in the order given; zeros for a tensor the chain does not use. */
  grads: tf.Tensor[];
  /** d loss / d input. */
  inputGrad: tf.Tensor;
}

/**
 * loss(segments[N-1](…segments[0](input))) and its gradients for `params` (the tensors the segments and the loss
 * close over that need gradients), keeping only segment boundaries between the forward and backward passes.
 */
export function checkpointedGrads(
  segments: readonly Segment[],
  input: tf.Tensor,
  loss: (y: tf.Tensor) => tf.Scalar,
  params: readonly tf.Tensor[],
): CheckpointedGrads {
  if (segments.length === 0) throw new Error("checkpointedGrads: segments is empty; give at least one segment");
  // Forward without a tape: only the boundaries x₀…x_N survive.
  const boundaries: tf.Tensor[] = [input];
  for (const segment of segments) {
    const x = boundaries[boundaries.length - 1]!;
    boundaries.push(tf.tidy(() => segment(x)));
  }

  const accumulate = (into: tf.Tensor[], grads: (tf.Tensor | undefined)[]) =>
    grads.map((g, i) => {
      if (!g) return into[i]!;
      const sum = tf.add(into[i]!, g);
      tf.dispose([into[i]!, g]);
      return sum;
    });

  let totals = params.map((p) => tf.zerosLike(p));
  const top = tf.engine().gradients(() => loss(boundaries[segments.length]!), [boundaries[segments.length]!, ...params], undefined, true);
  const value = top.value as tf.Scalar;
  let dy = top.grads[0] ?? tf.zerosLike(boundaries[segments.length]!);
  totals = accumulate(totals, top.grads.slice(1));
  boundaries.pop()!.dispose();

  // Backward, last segment first, recomputing each from its saved input.
  for (let i = segments.length - 1; i >= 0; i--) {
    const x = boundaries[i]!;
    const step = tf.engine().gradients(() => segments[i]!(x), [x, ...params], dy, true);
    step.value.dispose();
    dy.dispose();
    dy = step.grads[0] ?? tf.zerosLike(x);
    totals = accumulate(totals, step.grads.slice(1));
    if (i > 0) boundaries.pop()!.dispose();
  }
  return { value, grads: totals, inputGrad: dy };
}
