/**
 * The job a run config asks for: AlignProp or DDPO (`algorithm`) on a diffusers pipeline — the embedded
 * "tiny-shapes" (the default, with its learned aesthetic reward and the shapes prompts), a directory or a Hub id —
 * or, for model "tiny", the seconds-fast stand-in prompt-conditioned image generator that smoke tests use.
 * Downloading and loading report their progress to `report`.
 */
import { join } from "node:path";
import { AlignPropJob, type PromptSource } from "../algorithms/alignprop.js";
import { DDPOJob } from "../algorithms/ddpo.js";
import { PromptMlpJob } from "../algorithms/prompt-mlp.js";
import type { RunConfig } from "../config/index.js";
import { promptSourceFor } from "../data/prompt-source.js";
import { LORA_WEIGHTS_FILE, saveLoraWeights } from "../io/lora-weights.js";
import { truncationWarner } from "../models/clip/truncation.js";
import { attachLora } from "../models/lora.js";
import { modelSource } from "../models/embedded.js";
import { resolveRunDefaults } from "../models/model-defaults.js";
import { disposePipeline, loadPipeline, resolvePipeline } from "../models/pipeline.js";
import { resolveReward } from "../rewards/registry.js";
import type { TrainingJob } from "./job.js";
import type { ProgressListener } from "./progress.js";
import { watchReward } from "./reward-watch.js";

export interface CreatedJob {
  job: TrainingJob;
  /** What the run trains, for the first status message. */
  description: string;
  /** Writes the run's shareable weights (diffusers' LoRA file) into the run directory; called after each save. */
  exportWeights?: (runDir: string) => Promise<string>;
  dispose(): void;
}

/** What a job reports while it loads and trains, besides its results: progress, and warnings for the user. */
export interface JobHooks {
  progress: ProgressListener;
  warn: (message: string) => void;
}

export async function createJob(config: RunConfig, hooks: JobHooks = { progress: () => {}, warn: () => {} }): Promise<CreatedJob> {
  const report = hooks.progress;
  if (config.model === "tiny") {
    if (config.algorithm === "ddpo") {
      throw new Error('algorithm="ddpo" needs a diffusion pipeline, and model="tiny" is a stand-in without one; pass --model <pipeline dir or Hub id>');
    }
    const job = new PromptMlpJob({
      seed: config.seed,
      batchSize: config.train_batch_size,
      accumulationSteps: config.train_gradient_accumulation_steps,
      learningRate: config.train_learning_rate,
      beta1: config.train_adam_beta1,
      beta2: config.train_adam_beta2,
      epsilon: config.train_adam_epsilon,
      weightDecay: config.train_adam_weight_decay,
      maxGradNorm: config.train_max_grad_norm,
    });
    return { job, description: job.name, dispose: () => job.dispose() };
  }
  const dir = await resolvePipeline(modelSource(config.model), {
    onDownload: (p) =>
      report({ phase: "download", item: p.file, done: p.bytesDone, total: p.bytesTotal, unit: "bytes", itemsDone: p.filesDone, itemsTotal: p.filesTotal }),
  });
  // The three models, then the reward.
  const loading = (item: string, done: number) => report({ phase: "load", item, done, total: 4, unit: "components", itemsDone: done, itemsTotal: 4 });
  const pipeline = await loadPipeline(dir, { onComponent: (component, done) => loading(component, done) });
  const lora = attachLora(
    pipeline.unet,
    { rank: config.lora_rank, alpha: config.lora_alpha, targetModules: config.lora_target_modules },
    { seed: config.seed },
  );
  const defaults = resolveRunDefaults(config, dir);
  const rewardName = defaults.reward;
  loading(`reward ${rewardName}`, 3);
  const reward = watchReward(await resolveReward(rewardName));
  loading(`reward ${rewardName}`, 4);
  const components = { ...pipeline, lora };
  const source = promptSourceFor(defaults.prompts);
  const checkLength = truncationWarner(pipeline.tokenizer, hooks.warn);
  const prompts: PromptSource = (rng) => {
    const drawn = source(rng);
    checkLength(drawn.prompt);
    return drawn;
  };
  const ddpo = config.algorithm === "ddpo";
  const job = ddpo ? new DDPOJob(components, config, reward, prompts) : new AlignPropJob(components, config, reward, prompts);
  return {
    job,
    description: `${ddpo ? "DDPO" : "AlignProp"} on ${config.model} (LoRA r=${config.lora_rank}, ${lora.parameterCount()} params; reward ${rewardName})`,
    exportWeights: async (runDir) => {
      const path = join(runDir, LORA_WEIGHTS_FILE);
      await saveLoraWeights(path, lora);
      return path;
    },
    dispose: () => {
      job.dispose();
      lora.dispose();
      disposePipeline(pipeline);
    },
  };
}
