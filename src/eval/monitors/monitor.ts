/**
 * A monitor: one named measurement of the eval samples (src/eval/monitor-names.ts lists the names and values). Each
 * reads the samples as the run saved them (8-bit RGB, as floats in [0, 1]) so both engines, and a resumed run, measure
 * the same pixels.
 */
import * as tf from "@tensorflow/tfjs";
import { scoreImages, type PromptMetadata, type Reward } from "../../rewards/reward.js";
import type { MonitorName, MonitorValue } from "../monitor-names.js";

export interface EvalSamples {
  /** Per sample, prompt-major (src/eval/eval-set.ts). */
  prompts: readonly string[];
  metadata: readonly PromptMetadata[];
  /** [N, H, W, 3] in [0, 1], the saved 8-bit images / 255. */
  pixels: Float32Array;
  height: number;
  width: number;
  /** The run's training reward of each sample. */
  rewards: readonly number[];
  /** The base model's samples for the same (prompt, seed) pairs, like `pixels`; undefined when not known. */
  base: Float32Array | undefined;
}

export interface Monitor {
  readonly name: MonitorName;
  /** The values it reports (a subset of MONITOR_VALUES' names); none when the samples give it nothing to judge. */
  measure(samples: EvalSamples): Partial<Record<MonitorValue, number>>;
}

/** One image of `samples` as [H, W, 3] floats. */
export function imagePixels(samples: Pick<EvalSamples, "pixels" | "height" | "width">, index: number, from = samples.pixels): Float32Array {
  const size = samples.height * samples.width * 3;
  return from.subarray(index * size, (index + 1) * size);
}

/** Root-mean-square difference of two images' channel values, in [0, 1]: 0 for identical images. */
export function rmsDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(sum / a.length);
}

export const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** `reward` of every sample, scored `batchSize` images at a time. */
export function scoreSamples(
  reward: Reward,
  s: Pick<EvalSamples, "prompts" | "metadata" | "pixels" | "height" | "width">,
  batchSize: number,
): number[] {
  const scores: number[] = [];
  const size = s.height * s.width * 3;
  for (let start = 0; start < s.prompts.length; start += batchSize) {
    const end = Math.min(start + batchSize, s.prompts.length);
    const batch = tf.tidy(() => {
      const images = tf.tensor4d(s.pixels.subarray(start * size, end * size), [end - start, s.height, s.width, 3]); // [B, H, W, 3]
      return scoreImages(reward, images, s.prompts.slice(start, end), s.metadata.slice(start, end)).rewards;
    });
    scores.push(...batch.dataSync());
    batch.dispose();
  }
  return scores;
}
