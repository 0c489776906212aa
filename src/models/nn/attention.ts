/**
 * Scaled dot-product attention, the one core the UNet's, the VAE's and CLIP's attention layers share:
 * O = softmax(Q·Kᵀ + mask)·V over leading batch (and head) axes, with the scale already applied to Q.
 *
 * Its gradient is written out rather than left to TF.js's chain of kernel gradients, the way flash attention's
 * backward pass is (Dao et al. 2022, §B.2): with P = softmax(S) and dO the output's gradient,
 *   dV = Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ⊙ (dP − D)  with  D = rowsum(dO ⊙ O) = rowsum(dP ⊙ P),
 *   dQ = dS·K,   dK = dSᵀ·Q.
 * D comes from the [.., N, d] output instead of the [.., N, M] probabilities, so the softmax's gradient is two
 * passes over the N×M scores (a subtraction and a product) where TF.js's takes four (dP⊙P, its row sum, that sum
 * times P, the difference). The mask (additive, a constant) gets no gradient.
 */
import * as tf from "@tensorflow/tfjs";

/** q [.., N, d], k [.., M, d], v [.., M, dv], mask broadcastable to [.., N, M] (additive) → [.., N, dv] */
export function scaledDotProductAttention<T extends tf.Tensor>(q: T, k: T, v: T, mask?: tf.Tensor): T {
  return (mask ? attendWith(mask) : unmasked)(q, k, v) as T;
}

const attendWith = (mask: tf.Tensor | undefined) =>
  tf.customGrad((...args: unknown[]) => {
    const [q, k, v] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const scores = tf.matMul(q!, k!, false, true); // [.., N, M]
    const p = tf.softmax(mask ? tf.add(scores, mask) : scores);
    const value = tf.matMul(p, v!); // [.., N, dv]
    save([q!, k!, v!, p, value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const dO = dy as tf.Tensor;
        const [sq, sk, sv, sp, so] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dP = tf.matMul(dO, sv, false, true); // [.., N, M]
        const rowDot = tf.sum(tf.mul(dO, so), -1, true); // [.., N, 1]
        const dS = tf.mul(sp, tf.sub(dP, rowDot)); // [.., N, M]
        // Pᵀ·dO and dSᵀ·Q as (dOᵀ·P)ᵀ and (Qᵀ·dS)ᵀ: the N×M operand is read in its own layout and only the small
        // [.., d, M] product is transposed (ORT's MatMul with a transposed N×M operand took 1.5× as long, same values).
        return [tf.matMul(dS, sk), swapLastAxes(tf.matMul(sq, dS, true, false)), swapLastAxes(tf.matMul(dO, sp, true, false))];
      },
    };
  });

const unmasked = attendWith(undefined);

/** t with its last two axes swapped. */
const swapLastAxes = (t: tf.Tensor): tf.Tensor => {
  const perm = [...t.shape.keys()];
  perm.splice(-2, 2, t.rank - 1, t.rank - 2);
  return tf.transpose(t, perm);
};
