/**
 * What the trainer process runs: one optimizer step at a time, synchronously. The run loop (state machine, events,
 * checkpoints, files) is independent of the job, AlignProp or DDPO.
 */
import type { RunConfig } from "../config/index.js";
import type { RgbImage } from "../io/png.js";
import type { TensorMap } from "../io/safetensors.js";
import type { OptimizerConfig } from "./lora-optimizer.js";

/** The run-config fields every job reads (sampling, batches, the optimizer, the seed): the validated config's values. */
export type JobOptions = OptimizerConfig &
  Pick<
    RunConfig,
    "seed" | "sample_num_steps" | "sample_eta" | "sample_guidance_scale" | "negative_prompts" | "train_batch_size" | "train_gradient_accumulation_steps"
  >;

export interface StepImages {
  images: RgbImage[];
  prompts: string[];
  promptMetadata: Record<string, unknown>[];
  rewards: number[];
}

export interface StepResult {
  loss: number;
  /** One reward per sample of the step (all accumulation micro-batches). */
  rewards: number[];
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
  /** Algorithm-specific values by name (DDPO: approx_kl, clip_fraction), published as Metrics.scalars. */
  scalars?: Record<string, number>;
  /** Present when the step was asked to keep its images. */
  images?: StepImages;
}

export interface TrainingJob {
  readonly name: string;
  /** One optimizer step (with gradient accumulation). Every tensor it makes is released before it returns. */
  step(opts: { keepImages: boolean }): StepResult;
  /** Everything a checkpoint must hold to continue exactly: weights, optimizer slots, RNG. */
  checkpointState(): Promise<{ tensors: TensorMap; rngState: number }>;
  /** Continues from what `checkpointState` saved; the next step equals the uninterrupted run's. */
  restore(saved: { tensors: TensorMap; rngState: number }): Promise<void>;
  dispose(): void;
}
