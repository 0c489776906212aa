/**
 * AlignProp (Prabhudesai et al. 2023, "Aligning Text-to-Image Diffusion Models with Reward Backpropagation",
 * arXiv:2310.03739), Algorithm 1, as TRL's AlignPropTrainer runs it: LoRA adapters on the UNet are trained by
 * backpropagating a differentiable reward of the decoded image through the last (kept) steps of the DDIM chain.
 *
 * Per optimizer step, for each of `train_gradient_accumulation_steps` micro-batches:
 *   1. draw prompts; encode them (no gradient); draw x_T, the chain's noise, and which steps keep gradient
 *   2. run `sample_num_steps` DDIM steps with classifier-free guidance, gradient only through the kept steps
 *   3. decode x_0 with the VAE (with gradient), images in [0, 1]; reward; loss (+ kl_coeff · kl, the kept steps'
 *      squared distance to the base UNet's prediction, when kl_coeff > 0); gradients for the LoRA weights
 * then 4. clip the summed gradient to `train_max_grad_norm` and take one AdamW step.
 */
import * as tf from "@tensorflow/tfjs";
import type { PromptSource } from "../data/prompt-source.js";
import { chainGradients, keptSteps, type Chain, type Truncation } from "../diffusion/differentiable-sampler.js";
import { decodeLatents } from "../diffusion/pipeline-sample.js";
import { floatsToImages } from "../io/png.js";
import type { TensorMap } from "../io/safetensors.js";
import { requireDifferentiable, scoreImages, type Reward } from "../rewards/reward.js";
import { phase } from "../util/phase.js";
import { Rng } from "../util/rng.js";
import { truncationOf, type AlignPropOptions } from "./alignprop-options.js";
import { Conditioning, type DiffusionComponents } from "./conditioning.js";
import type { StepImages, StepResult, TrainingJob } from "./job.js";
import { LoraOptimizer } from "./lora-optimizer.js";

export class AlignPropJob implements TrainingJob {
  readonly name = "alignprop";
  private readonly rng: Rng;
  private readonly truncation: Truncation;
  private readonly optimizer: LoraOptimizer;
  private readonly conditioning: Conditioning;

  constructor(
    private readonly c: DiffusionComponents,
    private readonly options: AlignPropOptions,
    private readonly reward: Reward,
    private readonly promptSource: PromptSource,
  ) {
    requireDifferentiable(reward);
    this.rng = new Rng(options.seed);
    this.truncation = truncationOf(options);
    this.optimizer = new LoraOptimizer(c.lora, options);
    this.conditioning = new Conditioning(c, options.negative_prompts, "AlignProp");
  }

  step({ keepImages }: { keepImages: boolean }): StepResult {
    const o = this.options;
    const k = o.train_gradient_accumulation_steps;
    const b = o.train_batch_size;
    if (this.c.lora.merged) throw new Error("the LoRA adapters are merged into the UNet; unmerge them before training");
    this.c.scheduler.setTimesteps(o.sample_num_steps);
    // One explicit scope: every tensor the step makes is released when it ends (tf.tidy cannot return plain objects).
    tf.engine().startScope();
    try {
      let loss = 0;
      let kl = 0;
      const rewards: number[] = [];
      let last: StepImages | undefined;
      for (let micro = 0; micro < k; micro++) {
        // 1. Prompts and their embeddings (no gradient: computed outside the gradient pass), x_T, noise, kept steps.
        const drawn = Array.from({ length: b }, () => this.promptSource(this.rng));
        const prompts = drawn.map((d) => d.prompt);
        const metadata = drawn.map((d) => d.metadata);
        const keep = keptSteps(o.sample_num_steps, this.truncation, this.rng);
        const xT = this.conditioning.normal(this.rng, b, this.c.scheduler.initNoiseSigma);
        const noise = o.sample_eta > 0 ? Array.from({ length: o.sample_num_steps }, () => this.conditioning.normal(this.rng, b)) : [];
        const chain: Chain = {
          unet: this.c.unet,
          scheduler: this.c.scheduler,
          context: this.conditioning.context(phase("text_encoder", () => this.conditioning.encode(prompts)), o.sample_guidance_scale > 1),
          guidanceScale: o.sample_guidance_scale,
          eta: o.sample_eta,
          noise,
        };
        if (o.kl_coeff > 0) chain.kl = { adapters: this.c.lora, coeff: o.kl_coeff / k };

        // 2.–3. The chain, the decoded images, their rewards and the loss (1/k of the step's), with gradients.
        let images: tf.Tensor4D | undefined;
        let batchRewards: tf.Tensor1D | undefined;
        const lossOf = (x0: tf.Tensor4D): tf.Scalar => {
          images = tf.keep(phase("vae_decode", () => decodeLatents(this.c.vae, x0))); // x_0 / scaling_factor decoded, (x/2 + 0.5) clamped to [0, 1]
          batchRewards = tf.keep(phase("reward", () => scoreImages(this.reward, images!, prompts, metadata).rewards));
          return tf.div(this.lossFrom(batchRewards), k) as tf.Scalar;
        };
        const chained = chainGradients(chain, keep, xT, lossOf, this.optimizer.params, o.gradient_checkpointing);
        phase("optimizer", () => this.optimizer.accumulate(chained.grads));
        loss += chained.value.dataSync()[0]!;
        if (chained.kl) kl += chained.kl.dataSync()[0]! / k;
        rewards.push(...batchRewards!.dataSync());
        if (keepImages && micro === k - 1) {
          const [, h, w] = images!.shape;
          const pixels = floatsToImages(images!.dataSync() as Float32Array, b, h, w);
          last = { images: pixels, prompts, promptMetadata: metadata.map((m) => ({ ...m })), rewards: rewards.slice(-b) };
        }
        images!.dispose();
        batchRewards!.dispose();
      }

      // 4. Clip the summed gradient's global norm to train_max_grad_norm, one AdamW step.
      const gradNorm = phase("optimizer", () => this.optimizer.step());
      const result: StepResult = { loss, rewards, gradNorm, lr: o.train_learning_rate };
      if (o.kl_coeff > 0) result.scalars = { kl };
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

  async checkpointState(): Promise<{ tensors: TensorMap; rngState: number }> {
    return { tensors: this.optimizer.state(), rngState: this.rng.state };
  }

  async restore(saved: { tensors: TensorMap; rngState: number }): Promise<void> {
    this.optimizer.restore(saved.tensors);
    this.rng.state = saved.rngState;
  }

  /** Releases what the job made (optimizer moments, the negative embedding); the models stay with their owner. */
  dispose(): void {
    this.optimizer.dispose();
    this.conditioning.dispose();
  }
}
