/**
 * A differentiable reward for the stand-in job: how closely an image shows the prompted shape in the prompted colour
 * on a dark background. reward = 1 − mean |image − target| ∈ [0, 1], per image.
 */
import * as tf from "@tensorflow/tfjs";
import { COLOURS, shapeMask, type ShapePrompt } from "../data/shape-prompts.js";

export const BACKGROUND = [0.08, 0.08, 0.1] as const;

/** The ideal image for each prompt: [B, S, S, 3]. */
export function targetImages(prompts: ShapePrompt[], size: number): tf.Tensor4D {
  const data = new Float32Array(prompts.length * size * size * 3);
  prompts.forEach((p, b) => {
    const mask = shapeMask(p.metadata.shape, size);
    const colour = COLOURS[p.metadata.colour];
    for (let i = 0; i < size * size; i++) {
      for (let ch = 0; ch < 3; ch++) {
        data[(b * size * size + i) * 3 + ch] = mask[i] ? colour[ch]! : BACKGROUND[ch]!;
      }
    }
  });
  return tf.tensor4d(data, [prompts.length, size, size, 3]);
}

/** images [B, H, W, 3] in [0, 1], targets the same shape → rewards [B]. */
export function colourMatchReward(images: tf.Tensor4D, targets: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(1, tf.mean(tf.abs(tf.sub(images, targets)), [1, 2, 3])) as tf.Tensor1D);
}
