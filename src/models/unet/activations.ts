/**
 * The two activations the UNet uses that TF.js core lacks as ops, written as in PyTorch: `nn.SiLU` and the exact
 * (erf) `F.gelu` that diffusers' GEGLU calls.
 */
import * as tf from "@tensorflow/tfjs";

/** silu(x) = x · σ(x) */
export function silu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
}

/** gelu(x) = x/2 · (1 + erf(x/√2)), PyTorch's default (not the tanh approximation). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}
