/**
 * The activations the UNet and the VAE use that TF.js core lacks as ops, written as in PyTorch: `nn.SiLU` and the
 * exact (erf) `F.gelu` that diffusers' GEGLU calls, with `geglu`, GEGLU's gated product.
 *
 * SiLU's and GEGLU's gradients are written out from the forward pass's own values, the way the norms' are
 * (layers.ts): TF.js's chain of kernel gradients makes six passes over x's size for SiLU and twelve for GEGLU, these
 * four and nine; the same gradients to float rounding.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * silu(x) = x · σ(x). With s = σ(x) and y = x·s: dx = dy · (s + y·(1 − s)), as σ' = s(1 − s) makes
 * d(x·s)/dx = s + x·s·(1 − s).
 */
export const silu = <T extends tf.Tensor>(x: T): T => siluOp(x) as T;

const siluOp = tf.customGrad((...args: unknown[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  const s = tf.sigmoid(x);
  const y = tf.mul(x, s);
  save([s, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [ss, sy] = saved as [tf.Tensor, tf.Tensor];
      return [tf.mul(dy as tf.Tensor, tf.add(ss, tf.mul(sy, tf.sub(1, ss))))];
    },
  };
});

/** Φ(x) = (1 + erf(x/√2))/2, the standard normal CDF. */
const normalCdf = (x: tf.Tensor): tf.Tensor => tf.mul(tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))), 0.5);

/**
 * gelu(x) = x·Φ(x) = x/2 · (1 + erf(x/√2)), PyTorch's default (not the tanh approximation). The halving is exact in
 * float32, so this is the same number whichever factor takes it.
 */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.mul(x, normalCdf(x)));
}

/**
 * GEGLU's product value · gelu(gate), gelu as above. With Φ(g) = (1 + erf(g/√2))/2 and φ(g) = e^(−g²/2)/√(2π),
 * gelu(g) = g·Φ(g) and gelu'(g) = Φ(g) + g·φ(g), so
 *   d value = dy · gelu(gate),   d gate = dy · value · (Φ(gate) + gate·φ(gate)).
 */
export function geglu<T extends tf.Tensor>(value: T, gate: T): T {
  return gegluOp(value, gate) as T;
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const gegluOp = tf.customGrad((...args: unknown[]) => {
  const [value, gate] = args as [tf.Tensor, tf.Tensor];
  const save = args[2] as tf.GradSaveFunc;
  const cdf = normalCdf(gate);
  const activated = tf.mul(gate, cdf); // gelu(gate)
  save([value, gate, cdf, activated]);
  return {
    value: tf.mul(value, activated),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const g = dy as tf.Tensor;
      const [sv, sg, sc, sa] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor];
      const pdfTimesGate = tf.mul(tf.mul(sg, tf.exp(tf.mul(tf.square(sg), -0.5))), INV_SQRT_2PI); // gate·φ(gate)
      return [tf.mul(g, sa), tf.mul(tf.mul(g, sv), tf.add(sc, pdfTimesGate))];
    },
  };
});
