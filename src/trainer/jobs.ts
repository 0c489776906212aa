/**
 * The job a run config asks for: AlignProp or DDPO (`algorithm`) on a diffusers pipeline — the embedded
 * "tiny-shapes" (the default, with its learned aesthetic reward and the shapes prompts), a directory or a Hub id.
 */
import { AlignPropJob } from "../algorithms/alignprop.js";
import { DDPOJob } from "../algorithms/ddpo.js";
import type { RunConfig } from "../config/index.js";
import { promptSourceFor } from "../data/prompt-source.js";
import { saveLoraWeights } from "../io/lora-weights.js";
import { attachLora } from "../models/lora.js";
import { embeddedModel, modelSource } from "../models/embedded.js";
import { disposePipeline, loadPipeline } from "../models/pipeline.js";
import { resolveReward } from "../rewards/registry.js";
import { runFiles } from "../run/index.js";
import type { TrainingJob } from "../algorithms/job.js";

export interface CreatedJob {
  job: TrainingJob;
  /** What the run trains, for the first status message. */
  description: string;
  /** Writes the run's shareable weights (diffusers' LoRA file) into the run directory; called after each save. */
  exportWeights?: (runDir: string) => Promise<string>;
  dispose(): void;
}

export async function createJob(config: RunConfig): Promise<CreatedJob> {
  const embedded = embeddedModel(config.model);
  const pipeline = await loadPipeline(modelSource(config.model));
  const lora = attachLora(
    pipeline.unet,
    { rank: config.lora_rank, alpha: config.lora_alpha, targetModules: config.lora_target_modules },
    { seed: config.seed },
  );
  const rewardName = config.reward || embedded?.reward || "brightness";
  const reward = await resolveReward(rewardName);
  const components = { ...pipeline, lora };
  const prompts = promptSourceFor(config.prompts || embedded?.prompts || "");
  const ddpo = config.algorithm === "ddpo";
  const job = ddpo ? new DDPOJob(components, config, reward, prompts) : new AlignPropJob(components, config, reward, prompts);
  return {
    job,
    description: `${ddpo ? "DDPO" : "AlignProp"} on ${config.model} (LoRA r=${config.lora_rank}, ${lora.parameterCount()} params; reward ${rewardName})`,
    exportWeights: async (runDir) => {
      const path = runFiles(runDir).loraWeights;
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
