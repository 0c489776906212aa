/**
 * The job a run config asks for: AlignProp or DDPO (`algorithm`) on a diffusers pipeline — the embedded
 * "tiny-shapes" (the default, with its learned aesthetic reward and the shapes prompts), a directory or a Hub id.
 * Downloading and loading report their progress to `report`.
 */
import { AlignPropJob } from "../algorithms/alignprop.js";
import { DDPOJob } from "../algorithms/ddpo.js";
import type { TrainingJob } from "../algorithms/job.js";
import type { RunConfig } from "../config/index.js";
import { Evaluator } from "../eval/evaluator.js";
import { promptSourceFor, type PromptSource } from "../data/prompt-source.js";
import { saveLoraWeights } from "../io/lora-weights.js";
import { truncationWarner } from "../models/clip/truncation.js";
import { attachLora } from "../models/lora.js";
import { modelSource } from "../models/embedded.js";
import { resolveRunDefaults } from "../models/model-defaults.js";
import { disposePipeline, loadPipeline, resolvePipeline } from "../models/pipeline.js";
import { resolveReward } from "../rewards/registry.js";
import { runFiles } from "../run/index.js";
import type { ProgressListener } from "./progress.js";
import { watchReward } from "./reward-watch.js";

export interface CreatedJob {
  job: TrainingJob;
  /** What the run trains, for the first status message. */
  description: string;
  /** Writes the run's shareable weights (diffusers' LoRA file) into the run directory; called after each save. */
  exportWeights?: (runDir: string) => Promise<string>;
  /** Writes the LoRA file to `path` (the best checkpoint's). */
  saveLora: (path: string) => Promise<void>;
  /** The evaluation pass, when the run evaluates (eval_freq > 0), and how often. */
  evaluation?: { evaluator: Evaluator; freq: number };
  dispose(): void;
}

/** What a job reports while it loads and trains, besides its results: progress, and warnings for the user. */
export interface JobHooks {
  progress: ProgressListener;
  warn: (message: string) => void;
}

export async function createJob(config: RunConfig, hooks: JobHooks = { progress: () => {}, warn: () => {} }): Promise<CreatedJob> {
  const report = hooks.progress;
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
  const evaluator =
    defaults.eval_freq > 0
      ? await Evaluator.create(components, reward, {
          set: { prompts: defaults.eval_prompts, seeds: defaults.eval_seeds },
          monitors: defaults.eval_monitors,
          steps: config.sample_num_steps,
          guidanceScale: config.sample_guidance_scale,
          eta: config.sample_eta,
          negativePrompt: config.negative_prompts,
          batchSize: config.per_device_eval_batch_size,
        })
      : undefined;
  return {
    job,
    description: `${ddpo ? "DDPO" : "AlignProp"} on ${config.model} (LoRA r=${config.lora_rank}, ${lora.parameterCount()} params; reward ${rewardName})`,
    exportWeights: async (runDir) => {
      const path = runFiles(runDir).loraWeights;
      await saveLoraWeights(path, lora);
      return path;
    },
    saveLora: (path) => saveLoraWeights(path, lora),
    ...(evaluator ? { evaluation: { evaluator, freq: defaults.eval_freq } } : {}),
    dispose: () => {
      job.dispose();
      lora.dispose();
      disposePipeline(pipeline);
    },
  };
}
