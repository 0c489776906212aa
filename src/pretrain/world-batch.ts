/** Batches of the synthetic world for pretraining: scenes, their images as a tensor, and captions. */
import * as tf from "@tensorflow/tfjs";
import { renderScene, scene, WORLD_SIZE, type Scene } from "../data/shapes-world.js";
import type { Rng } from "../util/rng.js";

export interface WorldBatch {
  scenes: Scene[];
  /** [B, 32, 32, 3] in [0, 1]. */
  images: tf.Tensor4D;
}

export function worldBatch(rng: Rng, batchSize: number): WorldBatch {
  const scenes = Array.from({ length: batchSize }, () => scene(rng));
  const pixels = new Float32Array(batchSize * WORLD_SIZE * WORLD_SIZE * 3);
  scenes.forEach((s, i) => pixels.set(renderScene(s), i * WORLD_SIZE * WORLD_SIZE * 3));
  return { scenes, images: tf.tensor4d(pixels, [batchSize, WORLD_SIZE, WORLD_SIZE, 3]) };
}

/** [0, 1] images → [-1, 1], what the VAE takes. */
export const toSigned = (images: tf.Tensor4D): tf.Tensor4D => tf.tidy(() => tf.sub(tf.mul(images, 2), 1));
