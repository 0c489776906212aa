/**
 * The fixed evaluation set: every eval prompt sampled with every noise seed, prompt-major (all seeds of the first
 * prompt, then the next), the same pairs in the same order at every evaluation. A seed fixes a sample's whole noise
 * (x_T and, with sample_eta > 0, every DDIM step's z), drawn from a generator seeded with it alone, so the same
 * (prompt, seed) pair gets the same noise whatever the batch it is sampled in.
 */
import * as tf from "@tensorflow/tfjs";
import { parseShapePrompt } from "../data/shape-prompts.js";
import { latentSizeOf } from "../diffusion/differentiable-sampler.js";
import { sample, type SamplingComponents } from "../diffusion/pipeline-sample.js";
import { floatsToImages, type RgbImage } from "../io/png.js";
import type { PromptMetadata } from "../rewards/reward.js";
import { Rng } from "../util/rng.js";

export interface EvalSet {
  prompts: readonly string[];
  seeds: readonly number[];
}

export interface EvalSample {
  prompt: string;
  seed: number;
  /** What the prompt names that a monitor can check: its colour and shape words (shapes vocabulary). */
  metadata: PromptMetadata;
}

/** The sampler settings of the run (its config's), shared by training and evaluation. */
export interface EvalSampling {
  steps: number;
  guidanceScale: number;
  eta: number;
  negativePrompt: string;
  batchSize: number;
}

export function evalSamples(set: EvalSet): EvalSample[] {
  return set.prompts.flatMap((prompt) => set.seeds.map((seed) => ({ prompt, seed, metadata: parseShapePrompt(prompt) })));
}

/**
 * Samples the set through the components' current weights, without gradient, `batchSize` at a time; the images as
 * 8-bit RGB, which is what the run saves and every monitor reads. Deterministic: the same weights and seeds give the
 * same bytes.
 */
export function sampleEvalSet(c: SamplingComponents, samples: readonly EvalSample[], o: EvalSampling): RgbImage[] {
  const images: RgbImage[] = [];
  for (let start = 0; start < samples.length; start += o.batchSize) {
    const batch = samples.slice(start, start + o.batchSize);
    const pixels = tf.tidy(() => {
      const noise = batch.map((s) => seededNoise(c, s.seed, o));
      const latents = tf.concat(noise.map((n) => n.latents)) as tf.Tensor4D; // [B, h, w, C]
      const varianceNoise = o.eta > 0 ? noise[0]!.steps.map((_, i) => tf.concat(noise.map((n) => n.steps[i]!)) as tf.Tensor4D) : undefined;
      const out = sample(c, {
        prompts: batch.map((s) => s.prompt),
        negativePrompts: o.negativePrompt,
        steps: o.steps,
        guidanceScale: o.guidanceScale,
        eta: o.eta,
        latents,
        ...(varianceNoise ? { varianceNoise } : {}),
      });
      out.latents.dispose();
      return out.images; // [B, H, W, 3] in [0, 1]
    });
    const [b, h, w] = pixels.shape;
    images.push(...floatsToImages(pixels.dataSync() as Float32Array, b, h, w));
    pixels.dispose();
  }
  return images;
}

/** One sample's x_T [1, h, w, C] (unit variance: `sample` scales it) and, with eta > 0, each step's z [1, h, w, C]. */
function seededNoise(c: SamplingComponents, seed: number, o: EvalSampling): { latents: tf.Tensor4D; steps: tf.Tensor4D[] } {
  const rng = new Rng(seed);
  const shape: [number, number, number, number] = [1, ...latentSizeOf(c.unet, "the evaluation"), c.unet.config.in_channels];
  const draw = () => tf.tensor4d(rng.normal(shape.reduce((a, b) => a * b, 1)), shape);
  const latents = draw();
  return { latents, steps: o.eta > 0 ? Array.from({ length: o.steps }, draw) : [] };
}
