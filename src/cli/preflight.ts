/**
 * What `train` checks before a run folder exists — the mistakes that need no download or loading to see: a model
 * folder that is missing or not a pipeline, a reward that does not exist, `push_to_hub` without a repo or a token. Each is a
 * usage error (exit 2) naming the field and its value; what only loading can find fails the run later (exit 1).
 */
import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { RunConfig } from "../config/index.js";
import { checkRepoId, isRepoId } from "../io/hub-names.js";
import { checkToken } from "../io/hub-push.js";
import { findHubToken } from "../io/hub-token.js";
import { embeddedModel } from "../models/embedded.js";
import { MODEL_INDEX } from "../models/pipeline-layout.js";
import { checkRewardSpec } from "../rewards/registry.js";
import { UsageError } from "./args.js";

export function preflight(config: RunConfig, env: NodeJS.ProcessEnv = process.env): void {
  const problems = [checkModel(config.model), checkReward(config.reward), checkPush(config, env)].filter((p) => p !== undefined);
  if (problems.length) throw new UsageError(problems.join("\n"));
}

function checkModel(model: string): string | undefined {
  if (embeddedModel(model)) return undefined;
  const where = `model=${JSON.stringify(model)}`;
  if (existsSync(model)) {
    if (!statSync(model).isDirectory()) return `${where} is a file; a pipeline is a folder in diffusers' layout (with ${MODEL_INDEX}) or a Hub repo id`;
    if (!existsSync(join(model, MODEL_INDEX))) {
      return `${where}: ${resolve(model)} has no ${MODEL_INDEX}; a pipeline folder is in diffusers' layout (${MODEL_INDEX}, unet/, vae/, text_encoder/, tokenizer/, scheduler/)`;
    }
    return undefined;
  }
  // Not a folder here: a Hub repo id is left to the Hub (and the cache); anything else is a folder that is missing.
  if (isRepoId(model)) return undefined;
  return `${where}: no such folder (${resolve(model)}), and not a Hub repo id ("org/name")`;
}

function checkReward(reward: string): string | undefined {
  if (reward === "") return undefined;
  try {
    checkRewardSpec(reward);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function checkPush(config: RunConfig, env: NodeJS.ProcessEnv): string | undefined {
  if (!config.push_to_hub) return undefined;
  if (!config.hub_model_id) return 'push_to_hub=true needs hub_model_id="namespace/name", the Hub repo to push to';
  try {
    checkRepoId(config.hub_model_id, "hub_model_id");
    checkToken(findHubToken(undefined, "HF_TOKEN", env));
    return undefined;
  } catch (error) {
    return `push_to_hub=true: ${(error as Error).message.replace("pass --token hf_…, set HF_TOKEN", "set HF_TOKEN")}`;
  }
}
