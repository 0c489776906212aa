/**
 * AlignProp (Prabhudesai et al. 2023, "Aligning Text-to-Image Diffusion Models with Reward Backpropagation",
 * arXiv:2310.03739), Algorithm 1, as TRL's AlignPropTrainer runs it: LoRA adapters on the UNet are trained by
 * backpropagating a differentiable reward of the decoded image through the last (kept) steps of the DDIM chain.
 *
 * Per optimizer step, for each of `train_gradient_accumulation_steps` micro-batches:
 *   1. draw prompts; encode them (no gradient); draw x_T, the chain's noise, and which steps keep gradient
 *   2. run `sample_num_steps` DDIM steps with classifier-free guidance, gradient only through the kept steps
 *   3. decode x_0 with the VAE (with gradient), images in [0, 1]; reward; loss; gradients for the LoRA weights
 * then 4. clip the summed gradient to `train_max_grad_norm` and take one AdamW step.
 */
import * as tf from "@tensorflow/tfjs";
import { chainGradients, keptSteps, latentSizeOf, type Chain, type Truncation } from "../diffusion/differentiable-sampler.js";
import type { DDIMScheduler } from "../diffusion/ddim.js";
import { decodeLatents, encodePrompts, initialLatents } from "../diffusion/pipeline-sample.js";
import { floatsToImages } from "../io/png.js";
import type { TensorMap } from "../io/safetensors.js";
import type { CLIPTextModel } from "../models/clip/text-model.js";
import type { CLIPTokenizer } from "../models/clip/tokenizer.js";
import type { LoraAdapters } from "../models/lora.js";
import type { UNet2DConditionModel } from "../models/unet/unet-2d-condition.js";
import type { AutoencoderKL } from "../models/vae/autoencoder-kl.js";
import { requireDifferentiable, scoreImages, type PromptMetadata, type Reward } from "../rewards/reward.js";
import type { StepImages, StepResult, TrainingJob } from "./job.js";
import { Rng } from "../util/rng.js";
import { AdamW } from "./alignprop-adamw.js";
import { truncationOf, validateAlignPropOptions, type AlignPropOptions } from "./alignprop-options.js";
import { restoreTrainingState, trainingState } from "./alignprop-state.js";

export interface AlignPropComponents {
  /** The UNet with `lora` attached (`attachLora`); only the adapters train. */
  unet: UNet2DConditionModel;
  lora: LoraAdapters;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  tokenizer: CLIPTokenizer;
  scheduler: DDIMScheduler;
}

/** TRL's `prompt_fn`, drawing from the job's seeded generator so runs and resumes repeat. */
export type PromptSource = (rng: Rng) => { prompt: string; metadata: PromptMetadata };

export class AlignPropJob implements TrainingJob {
  readonly name = "alignprop";
  private readonly rng: Rng;
  private readonly truncation: Truncation;
  private readonly params: tf.Variable[];
  private readonly optimizer: AdamW;
  /** The negative prompt's embedding [1, T, D], encoded once (TRL's `neg_prompt_embed`). */
  private readonly negativeEmbedding: tf.Tensor3D;
  /** Latent [height, width]: the UNet's sample_size. */
  private readonly latentSize: [number, number];

  constructor(
    private readonly c: AlignPropComponents,
    private readonly options: AlignPropOptions,
    private readonly reward: Reward,
    private readonly promptSource: PromptSource,
  ) {
    validateAlignPropOptions(options, c.lora);
    requireDifferentiable(reward);
    this.latentSize = latentSizeOf(c.unet, "AlignProp");
    this.rng = new Rng(options.seed);
    this.truncation = truncationOf(options);
    this.params = c.lora.trainableVariables();
    this.optimizer = AdamW.fromConfig(this.params, options);
    this.negativeEmbedding = encodePrompts(c, [options.negative_prompts]);
  }

  step({ keepImages }: { keepImages: boolean }): StepResult {
    const o = this.options;
    const k = o.train_gradient_accumulation_steps;
    if (this.c.lora.merged) throw new Error("the LoRA adapters are merged into the UNet; unmerge them before training");
    this.c.scheduler.setTimesteps(o.sample_num_steps);
    // One explicit scope: every tensor the step makes is released when it ends (tf.tidy cannot return plain objects).
    tf.engine().startScope();
    try {
      let grads = this.params.map((p) => tf.zerosLike(p));
      let loss = 0;
      const rewards: number[] = [];
      let last: StepImages | undefined;
      for (let micro = 0; micro < k; micro++) {
        // 1. Prompts and their embeddings (no gradient: computed outside the gradient pass), x_T, noise, kept steps.
        const drawn = Array.from({ length: o.train_batch_size }, () => this.promptSource(this.rng));
        const prompts = drawn.map((d) => d.prompt);
        const metadata = drawn.map((d) => d.metadata);
        const keep = keptSteps(o.sample_num_steps, this.truncation, this.rng);
        const xT = this.normal(this.c.scheduler.initNoiseSigma);
        const noise = o.sample_eta > 0 ? Array.from({ length: o.sample_num_steps }, () => this.normal()) : [];
        const chain: Chain = {
          unet: this.c.unet,
          scheduler: this.c.scheduler,
          context: this.context(prompts),
          guidanceScale: o.sample_guidance_scale,
          eta: o.sample_eta,
          noise,
        };

        // 2.–3. The chain, the decoded images, their rewards and the loss (1/k of the step's), with gradients.
        let images: tf.Tensor4D | undefined;
        let batchRewards: tf.Tensor1D | undefined;
        const lossOf = (x0: tf.Tensor4D): tf.Scalar => {
          images = tf.keep(decodeLatents(this.c.vae, x0)); // x_0 / scaling_factor decoded, (x/2 + 0.5) clamped to [0, 1]
          batchRewards = tf.keep(scoreImages(this.reward, images, prompts, metadata).rewards);
          return tf.div(this.lossFrom(batchRewards), k) as tf.Scalar;
        };
        const { value, grads: g } = chainGradients(chain, keep, xT, lossOf, this.params, o.gradient_checkpointing);
        grads = grads.map((sum, i) => tf.add(sum, g[i]!));
        loss += value.dataSync()[0]!;
        rewards.push(...batchRewards!.dataSync());
        if (keepImages && micro === k - 1) {
          const [b, h, w] = images!.shape;
          const pixels = floatsToImages(images!.dataSync() as Float32Array, b, h, w);
          last = { images: pixels, prompts, promptMetadata: metadata.map((m) => ({ ...m })), rewards: rewards.slice(-b) };
        }
        images!.dispose();
        batchRewards!.dispose();
      }

      // 4. Clip the global gradient norm (torch's clip_grad_norm_: scale by max/(norm + 1e-6) when above), AdamW.
      const gradNorm = Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
      const clip = Math.min(1, o.train_max_grad_norm / (gradNorm + 1e-6));
      this.optimizer.apply(clip < 1 ? grads.map((g) => tf.mul(g, clip)) : grads);
      const result: StepResult = { loss, rewards, gradNorm, lr: o.train_learning_rate };
      if (last) result.images = last;
      return result;
    } finally {
      tf.engine().endScope();
    }
  }

  /** "negative_reward": −mean r; "trl": mean(10 − r), TRL's calculate_loss; "target": mean |r − target|, the paper's. */
  private lossFrom(rewards: tf.Tensor1D): tf.Scalar {
    switch (this.options.loss) {
      case "negative_reward":
        return tf.neg(tf.mean(rewards)) as tf.Scalar;
      case "trl":
        return tf.mean(tf.sub(10, rewards));
      case "target":
        return tf.mean(tf.abs(tf.sub(rewards, this.options.reward_target!)));
    }
  }

  /** [negative × B; prompts] [2B, T, D] with guidance, else the prompts' [B, T, D]. */
  private context(prompts: readonly string[]): tf.Tensor3D {
    const embedded = encodePrompts(this.c, prompts);
    if (this.options.sample_guidance_scale <= 1) return embedded;
    return tf.concat([tf.tile(this.negativeEmbedding, [prompts.length, 1, 1]), embedded]);
  }

  /** N(0, σ²) latents [B, h, w, C] from the job's generator: x_T (σ = init_noise_sigma) and each step's z (σ = 1). */
  private normal(sigma = 1): tf.Tensor4D {
    const { train_batch_size: b } = this.options;
    return initialLatents([b, ...this.latentSize, this.c.unet.config.in_channels], this.rng, sigma);
  }

  async checkpointState(): Promise<{ tensors: TensorMap; rngState: number }> {
    return { tensors: trainingState(this.c.lora, this.optimizer), rngState: this.rng.state };
  }

  async restore(saved: { tensors: TensorMap; rngState: number }): Promise<void> {
    restoreTrainingState(this.c.lora, this.optimizer, saved.tensors);
    this.rng.state = saved.rngState;
  }

  /** Releases what the job made (optimizer moments, the negative embedding); the models stay with their owner. */
  dispose(): void {
    this.optimizer.dispose();
    this.negativeEmbedding.dispose();
  }
}
