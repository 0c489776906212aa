/**
 * `alignprop push`: publishes an AlignProp run's LoRA on the Hugging Face Hub. Everything is checked locally first
 * (repo id, token, revision, the run directory and its LoRA file), so a mistake costs no request. Then the repo is
 * created (an existing one is fine) and one commit uploads `pytorch_lora_weights.safetensors`, a generated model
 * card `README.md`, and a few of the latest sample images the run logged, under the paths they have in the run
 * directory (`images/step-<N>/<i>.png`).
 *
 * With @huggingface/hub: `createRepo` (POST /api/repos/create), then `uploadFiles` (POST …/preupload/<rev>; for LFS
 * files POST <repo>.git/info/lfs/objects/batch and a PUT to the returned URL; POST …/commit/<rev> as NDJSON), with
 * plain LFS rather than Xet. Environment as huggingface_hub reads it: HF_TOKEN, HF_ENDPOINT.
 */
import { createRepo, HubApiError, uploadFiles } from "@huggingface/hub";
import { readFile } from "node:fs/promises";
import { basename, isAbsolute, resolve } from "node:path";

import { loadRunConfig } from "../config/index.js";
import type { Event } from "../gen/alignprop/v1/alignprop_pb.js";
import { isRewardPath, resolveReward } from "../rewards/registry.js";
import { assertRunDir, LORA_WEIGHTS_FILE, readEventsLog, readRunImage, runFiles } from "../run/index.js";
import { decodeLoraWeights } from "./lora-weights.js";
import { buildModelCard, summarizeRewards, type CardImage, type ModelCardInput, type RewardPoint } from "./model-card.js";
import { embeddedModel } from "../models/embedded.js";
import { checkRepoId, checkRevision, checkTokenFormat, hubEndpoint, isRepoId } from "./hub-names.js";
import { pathExists } from "./path-exists.js";
import { findHubToken, type FoundToken } from "./hub-token.js";

export interface PushOptions {
  /** `namespace/name`; created when it does not exist. */
  repo: string;
  /** Hub token with write access; default `$HF_TOKEN`. */
  token?: string;
  /** Create the repo private (an existing repo keeps its visibility). */
  private?: boolean;
  /** Branch to commit to; default "main". */
  revision?: string;
  /** Default `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** The base pipeline's Hub id for the card, when config.model is a local folder; default from config.model. */
  baseModel?: string;
  /** Hub license id for the card; default the base model's, when it is one this module knows. */
  license?: string;
  /** Sample images to upload and show (the latest logged); default 4. */
  images?: number;
  log?: (line: string) => void;
}

export interface PushResult {
  /** The repo's page. */
  url: string;
  /** False when the repo already existed. */
  created: boolean;
  commitOid: string;
  commitUrl: string;
  /** Repo paths uploaded, in commit order. */
  files: string[];
}

/** One file of the commit, its bytes already in memory (the LoRA file is read once: validated bytes are sent). */
export interface UploadFile {
  path: string;
  bytes: Uint8Array<ArrayBuffer>;
}

export const DEFAULT_PUSH_IMAGES = 4;
/** Licenses of common base pipelines (their Hub cards'), so a card inherits the terms derivatives must keep. */
const KNOWN_LICENSES: Readonly<Record<string, string>> = {
  "runwayml/stable-diffusion-v1-5": "creativeml-openrail-m",
  "stable-diffusion-v1-5/stable-diffusion-v1-5": "creativeml-openrail-m",
  "compvis/stable-diffusion-v1-4": "creativeml-openrail-m",
  "stabilityai/stable-diffusion-2": "openrail++",
  "stabilityai/stable-diffusion-2-base": "openrail++",
  "stabilityai/stable-diffusion-2-1": "openrail++",
  "stabilityai/stable-diffusion-2-1-base": "openrail++",
};
const LICENSE = /^[a-z0-9][a-z0-9.+-]*$/;

/** Pushes the run in `runDir` to the Hub; throws before any request when an input or the run is not right. */
export async function pushRun(runDir: string, opts: PushOptions, env: NodeJS.ProcessEnv = process.env): Promise<PushResult> {
  checkRepoId(opts.repo, "repo");
  const token = checkToken(findHubToken(opts.token, "--token", env));
  const revision = checkRevision(opts.revision ?? "main");
  const endpoint = hubEndpoint(opts.endpoint, env);
  const log = opts.log ?? (() => {});
  const { card, files } = await prepareUpload(runDir, opts);

  let created = true;
  try {
    await createRepo({ repo: opts.repo, accessToken: token, hubUrl: endpoint, ...(opts.private ? { visibility: "private" as const } : {}) });
    log(`created ${opts.private ? "private " : ""}repo ${opts.repo} on ${endpoint}`);
  } catch (error) {
    if (!(error instanceof HubApiError && error.statusCode === 409)) throw hubError(`cannot create ${opts.repo} on ${endpoint}`, error, opts.repo);
    created = false;
    log(`${opts.repo} already exists on ${endpoint}; committing to it${opts.private ? " (its visibility is left as it is)" : ""}`);
  }

  const last = card.rewards?.last.step;
  const output = await uploadFiles({
    repo: opts.repo,
    accessToken: token,
    hubUrl: endpoint,
    branch: revision,
    useXet: false,
    files: files.map((f) => ({ path: f.path, content: new Blob([f.bytes]) })),
    commitTitle: `Upload AlignProp LoRA from run ${card.config.run_name || basename(resolve(runDir))}${last === undefined ? "" : ` (step ${last})`}`,
    commitDescription: `Reward ${card.config.reward || "the pipeline's default"}; LoRA r=${card.lora.rank}, alpha=${card.lora.alpha}; pushed with alignprop.`,
  }).catch((error: unknown) => {
    throw hubError(`cannot upload to ${opts.repo}@${revision} on ${endpoint}`, error, opts.repo);
  });
  if (!output) throw new Error(`${endpoint} answered the commit to ${opts.repo}@${revision} without a commit id`);
  const url = `${endpoint}/${opts.repo}`;
  log(`pushed ${files.length} files to ${url} (commit ${output.commit.oid})`);
  return { url, created, commitOid: output.commit.oid, commitUrl: output.commit.url, files: files.map((f) => f.path) };
}

/**
 * Reads the run directory into the commit: the LoRA file (validated), the model card, the latest sample images.
 * Local only; throws naming the path when the directory is not an AlignProp run with a LoRA file.
 */
export async function prepareUpload(runDir: string, opts: Omit<PushOptions, "token" | "revision" | "endpoint" | "log">): Promise<{ card: ModelCardInput; files: UploadFile[] }> {
  await assertRunDir(runDir);
  const paths = runFiles(runDir);
  const loraPath = paths.loraWeights;
  if (!(await pathExists(loraPath))) {
    throw new Error(`${loraPath} does not exist: push uploads the LoRA that an AlignProp run on a diffusers pipeline exports (alignprop train --model <pipeline dir | Hub id>); this run has none`);
  }
  const config = loadRunConfig({ file: paths.config }).config;
  const loraBytes = new Uint8Array(await readFile(loraPath));
  const weights = decodeLoraWeights(loraBytes, loraPath);
  const { events } = await readEventsLog(paths.events);

  const baseModel = opts.baseModel ?? (await hubIdOf(config.model));
  if (opts.baseModel !== undefined) checkRepoId(opts.baseModel, "base model");
  const license = opts.license ?? (baseModel ? KNOWN_LICENSES[baseModel.toLowerCase()] : undefined);
  if (license !== undefined && !LICENSE.test(license)) throw new Error(`license=${JSON.stringify(license)} is not a Hub license id (lowercase, e.g. "apache-2.0", "creativeml-openrail-m", "other")`);
  const maxImages = opts.images ?? DEFAULT_PUSH_IMAGES;
  if (!Number.isInteger(maxImages) || maxImages < 0) throw new Error(`images=${maxImages} must be a whole number ≥ 0`);

  const samples = await latestImages(runDir, events, maxImages);
  const card: ModelCardInput = {
    repo: opts.repo,
    baseModel,
    license,
    config,
    rewardDescription: await rewardDescription(config.reward),
    lora: {
      rank: weights.rank,
      alpha: weights.alpha,
      targetModules: weights.targetModules,
      layers: weights.layers.size,
      parameters: [...weights.layers.values()].reduce((n, l) => n + l.down.data.length + l.up.data.length, 0),
    },
    rewards: summarizeRewards(rewardPoints(events), config),
    images: samples.map((s) => s.image),
  };
  const files: UploadFile[] = [
    { path: LORA_WEIGHTS_FILE, bytes: loraBytes },
    { path: "README.md", bytes: new TextEncoder().encode(buildModelCard(card)) },
    ...samples.map((s) => ({ path: s.image.path, bytes: s.bytes })),
  ];
  return { card, files };
}

/** The token, checked for the Hub's format ("hf_" then letters, digits, "_"): no request is made with a wrong one. */
export function checkToken(found: FoundToken | undefined): string {
  if (found === undefined || found.token === "") {
    throw new Error(
      "no Hub token: pass --token hf_…, set HF_TOKEN or run `hf auth login` (a token with write access, from https://huggingface.co/settings/tokens)",
    );
  }
  return checkTokenFormat(found.token, found.source);
}

/** config.model when it names a Hub repo: not an embedded model, not a folder that exists here. */
async function hubIdOf(model: string): Promise<string | undefined> {
  if (embeddedModel(model) || isAbsolute(model) || model.startsWith(".") || (await pathExists(model))) return undefined;
  return isRepoId(model) ? model : undefined;
}

async function rewardDescription(spec: string): Promise<string | undefined> {
  if (!spec || isRewardPath(spec)) return undefined;
  // Built-ins only: a user module's code is not run just to describe it.
  return resolveReward(spec).then((r) => r.info.description, () => undefined);
}

/** One reward mean per step (the last logged, should a step appear twice). */
function rewardPoints(events: readonly Event[]): RewardPoint[] {
  const byStep = new Map<number, number>();
  for (const { payload } of events) if (payload.case === "metrics") byStep.set(payload.value.step, payload.value.rewardMean);
  return [...byStep].map(([step, rewardMean]) => ({ step, rewardMean }));
}

/** Up to `max` logged PNGs, latest step first: files inside the run directory that exist and are PNGs. */
async function latestImages(runDir: string, events: readonly Event[], max: number): Promise<Array<{ image: CardImage; bytes: Uint8Array<ArrayBuffer> }>> {
  const byStep = new Map<number, CardImage[]>();
  for (const { payload } of events) {
    if (payload.case !== "images") continue;
    const { step, images } = payload.value;
    byStep.set(step, images.map((i) => ({ path: i.path, prompt: i.prompt, reward: i.reward, step })));
  }
  const picked: Array<{ image: CardImage; bytes: Uint8Array<ArrayBuffer> }> = [];
  for (const step of [...byStep.keys()].sort((a, b) => b - a)) {
    for (const image of byStep.get(step)!) {
      if (picked.length >= max) return picked;
      // events.jsonl decides which files leave this machine: only PNGs under the run directory may.
      const read = await readRunImage(runDir, image.path);
      if (read.ok) picked.push({ image: { ...image, path: read.path }, bytes: new Uint8Array(read.bytes) });
    }
  }
  return picked;
}

function hubError(what: string, error: unknown, repo: string): Error {
  const e = error as Error & { cause?: { message?: string } };
  const detail = e.cause?.message ? `${e.message} (${e.cause.message})` : e.message;
  const status = error instanceof HubApiError ? error.statusCode : undefined;
  const hint = status === 401 || status === 403 ? `; check that the token is valid and may write to ${repo.split("/")[0]}` : "";
  return new Error(`${what}: ${status ? `HTTP ${status}: ` : ""}${detail}${hint}`);
}
