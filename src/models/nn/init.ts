/**
 * Fresh weights for training a model from scratch, as PyTorch initialises its layers: weights uniform in
 * ±1/√fan_in (nn.Linear / nn.Conv2d's kaiming_uniform with a = √5), biases zero, norm scales one (makeParam's),
 * embeddings N(0, 0.02) (CLIP's). Seeded, so a pretraining run repeats.
 */
import * as tf from "@tensorflow/tfjs";
import type { BuildContext } from "./module.js";

export function torchInit(seed: number): BuildContext {
  let next = seed >>> 0;
  return {
    shapeOnly: false,
    init: (shape, role) => {
      if (role === "embedding") return tf.randomNormal(shape, 0, 0.02, "float32", next++);
      if (role !== "weight" || shape.length < 2) return tf.zeros(shape);
      // TF.js layouts put the output last: Linear [in, out], Conv [kh, kw, in, out].
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const bound = 1 / Math.sqrt(fanIn);
      return tf.randomUniform(shape, -bound, bound, "float32", next++);
    },
  };
}
