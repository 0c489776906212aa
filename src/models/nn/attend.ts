/**
 * The attention core both attention layers share: softmax(q·kᵀ)·v over the last two axes (the 1/√d scale is the
 * caller's, on q). Its gradient is FlashAttention's: with O the output, softmax's backward needs rowsum(dP ⊙ P), which
 * equals rowsum(dO ⊙ O), a sum over the head width instead of over the keys. So the backward pass makes two tensors of
 * the scores' size (dP and dS) where TF.js's own chain rule makes four, the same gradient up to float32 rounding.
 */
import * as tf from "@tensorflow/tfjs";

/** q [..., N, d], k [..., M, d], v [..., M, dv] → softmax(q·kᵀ)·v [..., N, dv] */
export function attend(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: unknown[]) => {
    const [q, k, v] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const probs = tf.softmax(tf.matMul(q!, k!, false, true)); // P [..., N, M]
    const out = tf.matMul(probs, v!); // O [..., N, dv]
    save([q!, k!, v!, probs, out]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [q, k, v, probs, out] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
        const dOut = dy as tf.Tensor;
        const dProbs = tf.matMul(dOut, v, false, true); // dP [..., N, M]
        const rowDot = tf.sum(tf.mul(dOut, out), -1, true); // rowsum(dP ⊙ P) = rowsum(dO ⊙ O) [..., N, 1]
        const dScores = tf.mul(probs, tf.sub(dProbs, rowDot)); // dS [..., N, M]
        return [tf.matMul(dScores, k), tf.matMul(dScores, q, true, false), tf.matMul(probs, dOut, true, false)];
      },
    };
  });
  return op(q, k, v);
}
