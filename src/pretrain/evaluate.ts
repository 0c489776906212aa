/**
 * Does the pipeline draw what it is asked? Samples "a <colour> <shape>" for every colour and shape in turn and asks
 * the world's held-out colour classifier (no learned weights) which colour each image shows.
 */
import * as tf from "@tensorflow/tfjs";
import { classifyColour } from "../data/shapes-world.js";
import { COLOUR_NAMES, SHAPES, type Colour } from "../data/shape-prompts.js";
import { sample, type SamplingComponents } from "../diffusion/pipeline-sample.js";

export interface ColourEvaluation {
  samples: number;
  steps: number;
  guidanceScale: number;
  /** Share of samples whose classified colour is the prompted one. */
  accuracy: number;
  perColour: Record<string, number>;
}

export interface EvaluateOptions {
  samples: number;
  seed: number;
  steps?: number;
  guidanceScale?: number;
  batchSize?: number;
}

export function evaluateColours(c: SamplingComponents, o: EvaluateOptions): ColourEvaluation {
  const { steps = 20, guidanceScale = 5, batchSize = 16 } = o;
  const wanted: Colour[] = Array.from({ length: o.samples }, (_, i) => COLOUR_NAMES[i % COLOUR_NAMES.length]!);
  const prompts = wanted.map((colour, i) => `a ${colour} ${SHAPES[Math.floor(i / COLOUR_NAMES.length) % SHAPES.length]}`);
  const hits: Record<string, [number, number]> = {};
  for (let start = 0; start < prompts.length; start += batchSize) {
    const batch = prompts.slice(start, start + batchSize);
    const { images, latents } = sample(c, { prompts: batch, steps, guidanceScale, seed: o.seed + start });
    const [, h, w] = images.shape;
    const pixels = images.dataSync() as Float32Array;
    tf.dispose([images, latents]);
    batch.forEach((_, j) => {
      const colour = wanted[start + j]!;
      const guess = classifyColour(pixels.subarray(j * h * w * 3, (j + 1) * h * w * 3), h);
      const [right, total] = hits[colour] ?? [0, 0];
      hits[colour] = [right + (guess.colour === colour ? 1 : 0), total + 1];
    });
  }
  const right = Object.values(hits).reduce((a, [r]) => a + r, 0);
  return {
    samples: prompts.length,
    steps,
    guidanceScale,
    accuracy: right / prompts.length,
    perColour: Object.fromEntries(Object.entries(hits).map(([k, [r, t]]) => [k, r / t])),
  };
}
