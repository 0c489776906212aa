/**
 * DDPO (Black et al. 2023, "Training Diffusion Models with Reinforcement Learning", arXiv:2305.13301), DDPO_IS as
 * TRL's DDPOTrainer runs it, on the same sampler, LoRA adapters and optimizer as AlignProp: the reward needs no
 * gradient, only values.
 *
 * One epoch (one trainer step):
 *   1. sample `sample_num_batches_per_epoch` batches of `sample_batch_size` images with the DDIM chain (eta > 0,
 *      guidance), off the tape, keeping every latent and each step's log-prob; score the images
 *   2. advantages: rewards standardised over the epoch's batch, or per prompt (TRL's stat tracker)
 *   3. `train_num_inner_epochs` times: shuffle the samples, and each sample's timesteps independently; for each
 *      minibatch of `train_batch_size` and each of its first ⌊sample_num_steps·train_timestep_fraction⌋ shuffled
 *      timesteps, recompute the step's log-prob under the current weights and take the PPO-clip loss; the gradients
 *      of `train_gradient_accumulation_steps` minibatches × those timesteps are averaged (as accelerate does for
 *      TRL), clipped to `train_max_grad_norm`, and applied with AdamW.
 */
import * as tf from "@tensorflow/tfjs";
import { gradients } from "../tf/gradients.js";
import { trainedTimesteps } from "../config/index.js";
import type { PromptSource } from "../data/prompt-source.js";
import { DDIMScheduler } from "../diffusion/ddim.js";
import type { Chain } from "../diffusion/differentiable-sampler.js";
import { decodeLatents } from "../diffusion/pipeline-sample.js";
import { floatsToImages } from "../io/png.js";
import type { TensorMap } from "../io/safetensors.js";
import { scoreImages, type PromptMetadata, type Reward } from "../rewards/reward.js";
import { Rng } from "../util/rng.js";
import { Conditioning, type DiffusionComponents } from "./conditioning.js";
import { batchAdvantages, PerPromptStatTracker, STAT_TRACKER_PREFIX } from "./ddpo-advantages.js";
import { ppoClipLoss, ppoStats } from "./ddpo-loss.js";
import type { DDPOOptions } from "./ddpo-options.js";
import { sampleTrajectory, stepLogProb } from "./ddpo-trajectory.js";
import type { StepImages, StepResult, TrainingJob } from "./job.js";
import { LoraOptimizer } from "./lora-optimizer.js";

export interface DDPOStepResult extends StepResult {
  /** One per sample, in sampling order. */
  advantages: number[];
  /** Global gradient norm before clipping of each optimizer step of the epoch; `gradNorm` is their mean. */
  gradNorms: number[];
  /** TRL's approx_kl and clipfrac, averaged over the epoch's minibatch × timestep terms. */
  scalars: { approx_kl: number; clip_fraction: number };
}

/** The epoch's samples (N = sample_num_batches_per_epoch × sample_batch_size, S = sample_num_steps). */
interface Samples {
  /** [N·(S+1), h, w, C]: row n·(S+1) + i is sample n's latent before step i (i = S: x_0). */
  latents: tf.Tensor4D;
  /** [N·S] log-prob of step i of sample n at n·S + i, under the sampling weights. */
  logProbs: Float32Array;
  /** [N, T, D] the prompts' text embeddings. */
  embeds: tf.Tensor3D;
  prompts: string[];
  rewards: number[];
  images?: StepImages;
}

/** Fisher–Yates: a uniformly random order of 0 … n−1 (torch.randperm). */
function permutation(n: number, rng: Rng): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export class DDPOJob implements TrainingJob {
  readonly name = "ddpo";
  private readonly rng: Rng;
  private readonly optimizer: LoraOptimizer;
  private readonly conditioning: Conditioning;
  private readonly statTracker: PerPromptStatTracker | undefined;
  /**
   * The pipeline's scheduler with set_alpha_to_one off. TRL's `scheduler_step` clamps the previous timestep at 0,
   * so a step past t = 0 lands on ᾱ_0 whatever the config says; that keeps the last step stochastic (σ > 0), which
   * its log-prob needs. For SD1.5 (set_alpha_to_one false) this is the pipeline's scheduler unchanged.
   */
  private readonly scheduler: DDIMScheduler;

  constructor(
    private readonly c: DiffusionComponents,
    private readonly options: DDPOOptions,
    private readonly reward: Reward,
    private readonly promptSource: PromptSource,
  ) {
    this.scheduler = new DDIMScheduler({ ...c.scheduler.config, set_alpha_to_one: false });
    this.rng = new Rng(options.seed);
    this.optimizer = new LoraOptimizer(c.lora, options);
    this.conditioning = new Conditioning(c, options.negative_prompts, "DDPO");
    if (options.per_prompt_stat_tracking) {
      this.statTracker = new PerPromptStatTracker(options.per_prompt_stat_tracking_buffer_size, options.per_prompt_stat_tracking_min_count);
    }
  }

  step({ keepImages }: { keepImages: boolean }): DDPOStepResult {
    if (this.c.lora.merged) throw new Error("the LoRA adapters are merged into the UNet; unmerge them before training");
    this.scheduler.setTimesteps(this.options.sample_num_steps);
    // One explicit scope: every tensor the epoch makes is released when it ends (tf.tidy cannot return plain objects).
    tf.engine().startScope();
    try {
      // 1. Trajectories, images and rewards, without gradient.
      const samples = this.sample(keepImages);
      // 2. Advantages.
      const advantages = this.statTracker ? this.statTracker.update(samples.prompts, samples.rewards) : batchAdvantages(samples.rewards);
      // 3. PPO updates.
      const trained = this.train(samples, advantages);
      const result: DDPOStepResult = {
        loss: mean(trained.losses),
        rewards: samples.rewards,
        gradNorm: mean(trained.gradNorms),
        lr: this.options.train_learning_rate,
        advantages,
        gradNorms: trained.gradNorms,
        scalars: { approx_kl: mean(trained.approxKls), clip_fraction: mean(trained.clipFractions) },
      };
      if (samples.images) result.images = samples.images;
      return result;
    } finally {
      tf.engine().endScope();
    }
  }

  private sample(keepImages: boolean): Samples {
    const o = this.options;
    const b = o.sample_batch_size;
    const latents: tf.Tensor5D[] = [];
    const logProbs: tf.Tensor2D[] = [];
    const embeds: tf.Tensor3D[] = [];
    const prompts: string[] = [];
    const rewards: number[] = [];
    let images: StepImages | undefined;
    for (let batch = 0; batch < o.sample_num_batches_per_epoch; batch++) {
      const drawn = Array.from({ length: b }, () => this.promptSource(this.rng));
      const batchPrompts = drawn.map((d) => d.prompt);
      const metadata: PromptMetadata[] = drawn.map((d) => d.metadata);
      // Only the trajectory and the embeddings outlive the batch; its noise and images go with the tidy.
      const kept = tf.tidy(() => {
        const embedded = this.conditioning.encode(batchPrompts); // [b, T, D]
        const xT = this.conditioning.normal(this.rng, b, this.scheduler.initNoiseSigma);
        const noise = Array.from({ length: o.sample_num_steps }, () => this.conditioning.normal(this.rng, b));
        const chain: Chain = {
          unet: this.c.unet,
          scheduler: this.scheduler,
          context: this.conditioning.context(embedded, o.sample_guidance_scale > 1),
          guidanceScale: o.sample_guidance_scale,
          eta: o.sample_eta,
          noise,
        };
        const trajectory = sampleTrajectory(chain, xT);
        const x0 = tf.squeeze(tf.slice(trajectory.latents, [0, o.sample_num_steps], [-1, 1]), [1]) as tf.Tensor4D; // [b, h, w, C]
        const decoded = decodeLatents(this.c.vae, x0); // [b, H, W, 3] in [0, 1]
        const batchRewards = [...scoreImages(this.reward, decoded, batchPrompts, metadata).rewards.dataSync()];
        if (keepImages && batch === o.sample_num_batches_per_epoch - 1) {
          const [, h, w] = decoded.shape;
          const pixels = floatsToImages(decoded.dataSync() as Float32Array, b, h, w);
          images = { images: pixels, prompts: batchPrompts, promptMetadata: metadata.map((m) => ({ ...m })), rewards: batchRewards };
        }
        rewards.push(...batchRewards);
        return { ...trajectory, embedded };
      });
      latents.push(kept.latents);
      logProbs.push(kept.logProbs);
      embeds.push(kept.embedded);
      prompts.push(...batchPrompts);
    }
    const samples: Samples = {
      latents: tf.tidy(() => {
        const all = tf.concat(latents); // [N, S+1, h, w, C]
        const [n, steps, h, w, ch] = all.shape;
        return tf.reshape(all, [n * steps, h, w, ch]);
      }),
      logProbs: tf.tidy(() => tf.concat(logProbs).dataSync() as Float32Array),
      embeds: tf.concat(embeds),
      prompts,
      rewards,
    };
    tf.dispose([...latents, ...logProbs, ...embeds]);
    if (images) samples.images = images;
    return samples;
  }

  private train(s: Samples, advantages: readonly number[]) {
    const o = this.options;
    const n = s.prompts.length;
    const trained = trainedTimesteps(o);
    const perUpdate = o.train_gradient_accumulation_steps * trained;
    const log = { losses: [] as number[], approxKls: [] as number[], clipFractions: [] as number[], gradNorms: [] as number[] };
    let terms = 0;
    for (let inner = 0; inner < o.train_num_inner_epochs; inner++) {
      // TRL shuffles the samples, then each sample's timesteps independently.
      const order = permutation(n, this.rng);
      const stepOrders = order.map(() => permutation(o.sample_num_steps, this.rng));
      for (let start = 0; start < n; start += o.train_batch_size) {
        const rows = order.slice(start, start + o.train_batch_size);
        const rowSteps = stepOrders.slice(start, start + o.train_batch_size);
        for (let j = 0; j < trained; j++) {
          const term = this.term(s, rows, rowSteps.map((perm) => perm[j]!), advantages);
          // accelerate divides each term's loss by the number of terms accumulated per optimizer step.
          this.optimizer.accumulate(term.grads, perUpdate);
          tf.dispose(term.grads);
          log.losses.push(term.loss);
          log.approxKls.push(term.approxKl);
          log.clipFractions.push(term.clipFraction);
          if (++terms % perUpdate === 0) log.gradNorms.push(this.optimizer.step());
        }
      }
    }
    this.optimizer.discard();
    return log;
  }

  /**
   * One PPO term: samples `rows` at step indices `at` (one per row). Recomputes each step's log-prob under the
   * current weights and returns the PPO-clip loss, its gradient and TRL's stats. With train_cfg the recomputation
   * uses guidance exactly when sampling did (w > 1); TRL applies its formula even at w ≤ 1, where its sampler ran
   * unguided, so its ratios would start away from 1.
   */
  private term(s: Samples, rows: readonly number[], at: readonly number[], advantages: readonly number[]) {
    const o = this.options;
    const steps = o.sample_num_steps;
    const guided = o.train_cfg && o.sample_guidance_scale > 1;
    const oldLogProb = Float32Array.from(rows, (r, b) => s.logProbs[r * steps + at[b]!]!);
    let logProb: ArrayLike<number> = [];
    const { value, grads } = tf.tidy(() => {
      const pick = (offset: number) => tf.gather(s.latents, rows.map((r, b) => r * (steps + 1) + at[b]! + offset)); // [B, h, w, C]
      const model = {
        unet: this.c.unet,
        scheduler: this.scheduler,
        context: this.conditioning.context(tf.gather(s.embeds, rows as number[]), guided),
        guidanceScale: guided ? o.sample_guidance_scale : 1,
        eta: o.sample_eta,
      };
      const [x, next, old, adv] = [pick(0), pick(1), tf.tensor1d(oldLogProb), tf.tensor1d(rows.map((r) => advantages[r]!))];
      const timesteps = at.map((i) => this.scheduler.timesteps[i]!);
      const clip = { clipRange: o.train_clip_range, advClipMax: o.train_adv_clip_max };
      const lossOf = () => {
        const lp = stepLogProb(model, x, timesteps, next); // [B]
        logProb = lp.dataSync();
        return ppoClipLoss(lp, old, adv, clip);
      };
      const params = this.optimizer.params;
      const out = gradients(lossOf, params);
      return { value: out.value, grads: params.map((p, i) => out.grads[i] ?? tf.zerosLike(p)) };
    });
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { loss, grads, ...ppoStats(logProb, oldLogProb, o.train_clip_range) };
  }

  async checkpointState(): Promise<{ tensors: TensorMap; rngState: number }> {
    const tensors = { ...this.optimizer.state(), ...this.statTracker?.state() };
    return { tensors, rngState: this.rng.state };
  }

  /** The LoRA weights and AdamW's state (LoraOptimizer's keys), plus the per-prompt reward buffers when tracking. */
  async restore(saved: { tensors: TensorMap; rngState: number }): Promise<void> {
    const tracked = Object.keys(saved.tensors).filter((k) => k.startsWith(STAT_TRACKER_PREFIX));
    if (tracked.length && !this.statTracker) {
      throw new Error(`the checkpoint holds per-prompt reward buffers (${tracked.join(", ")}) but per_prompt_stat_tracking is off`);
    }
    const rest = Object.fromEntries(Object.entries(saved.tensors).filter(([k]) => !k.startsWith(STAT_TRACKER_PREFIX)));
    this.optimizer.restore(rest);
    this.statTracker?.restore(saved.tensors);
    this.rng.state = saved.rngState;
  }

  /** Releases what the job made (optimizer moments, the negative embedding); the models stay with their owner. */
  dispose(): void {
    this.optimizer.dispose();
    this.conditioning.dispose();
  }
}
