/**
 * Nearest-neighbour upsampling as PyTorch's `F.interpolate(mode="nearest")` does it, built from reshape + concat
 * (+ a crop) rather than `tf.image.resizeNearestNeighbor`: that op's cpu-backend gradient in TF.js 4.22 reads dy at
 * the wrong offset for every image after the first in a batch, and wasm has no gradient kernel for it.
 */
import * as tf from "@tensorflow/tfjs";

/**
 * [B, H, W, C] → [B, 2H, 2W, C]: each pixel becomes a 2×2 block. Its gradient is the sum over each block, taken in
 * one reduction: the gradient TF.js derives from the concats is a rank-5 SplitV, which wasm runs ~200× slower (it
 * was half of a VAE training step).
 */
export const upsampleNearest2x = tf.customGrad((input) => {
  const x = input as tf.Tensor;
  const [b, h, w, c] = x.shape as [number, number, number, number];
  const column = tf.reshape(x, [b, h, w, 1, c]);
  const wide = tf.reshape(tf.concat([column, column], 3), [b, h, 1, 2 * w, c]); // [B, H, 1, 2W, C]
  const value = tf.reshape(tf.concat([wide, wide], 2), [b, 2 * h, 2 * w, c]); // [B, 2H, 2W, C]
  return { value, gradFunc: (dy: tf.Tensor) => tf.sum(tf.reshape(dy, [b, h, 2, w, 2, c]), [2, 4]) };
}) as (x: tf.Tensor4D) => tf.Tensor4D;

/**
 * [B, H, W, C] → [B, outH, outW, C] for out ∈ {2·in − 1, 2·in} on each axis — the sizes a UNet's up path meets
 * (diffusers' `upsample_size` for latents that are not a multiple of the downsampling factor). PyTorch's nearest
 * source index ⌊dst · in/out⌋ equals the ×2 block layout cropped to `out` for these sizes.
 */
export function upsampleNearestTo(x: tf.Tensor4D, outH: number, outW: number): tf.Tensor4D {
  const [, h, w] = x.shape;
  const fits = (o: number, i: number) => o === 2 * i || o === 2 * i - 1;
  if (!fits(outH, h) || !fits(outW, w)) {
    throw new Error(`nearest upsample from ${h}×${w} to ${outH}×${outW}: only 2×in or 2×in−1 per axis is supported`);
  }
  const doubled = upsampleNearest2x(x);
  return outH === 2 * h && outW === 2 * w ? doubled : tf.slice(doubled, [0, 0, 0, 0], [-1, outH, outW, -1]);
}
