/**
 * A Stable Diffusion pipeline in diffusers' folder layout: `loadPipeline` reads one (a local folder or a Hub repo,
 * downloaded into the cache first) into the project's models, `savePipeline` writes one that diffusers and
 * `loadPipeline` read back. Weights are F32 in TF.js (F16/BF16 files are widened on load).
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

import { DDIMScheduler } from "../diffusion/ddim.js";
import { writeDirAtomic } from "../io/atomic.js";
import { readJsonObject } from "../io/json-file.js";
import { pathExists } from "../io/path-exists.js";
import { resolveRepo, type SourceOptions } from "../io/hub.js";
import { encodeSafetensors, openSafetensors, type TensorMap } from "../io/safetensors.js";
import { CLIPTokenizer } from "./clip/tokenizer.js";
import type { CLIPTextModel } from "./clip/text-model.js";
import { SHAPE_ONLY } from "./nn/module.js";
import { stateDict } from "./nn/state-dict.js";
import {
  buildModel,
  DIFFUSERS_VERSION,
  loadModelWeights,
  modelConfigJson,
  type PipelineModelClass,
  type PipelineModel,
} from "./pipeline-components.js";
import {
  checkModelIndex,
  CONFIG_FILE,
  MODEL_INDEX,
  pickWeightsFile,
  pipelineFiles,
  TOKENIZER_FILES,
  WEIGHTS_STEM,
  type ModelComponent,
  type ModelIndex,
} from "./pipeline-layout.js";
import type { UNet2DConditionModel } from "./unet/index.js";
import type { AutoencoderKL } from "./vae/index.js";

export interface PipelineConfig {
  /** model_index.json as read. */
  modelIndex: ModelIndex;
  /** The tokenizer folder's files (name → text), written back verbatim by savePipeline. */
  tokenizerFiles: Readonly<Record<string, string>>;
}

export interface Pipeline {
  unet: UNet2DConditionModel;
  vae: AutoencoderKL;
  textEncoder: CLIPTextModel;
  tokenizer: CLIPTokenizer;
  scheduler: DDIMScheduler;
  config: PipelineConfig;
}

/** Where to find the pipeline (see resolvePipeline); `variant` also picks the weights of a local folder. */
export interface LoadPipelineOptions extends SourceOptions {
  /** Called as each model component starts loading (`done` finished of `total`). */
  onComponent?: (component: ModelComponent, done: number, total: number) => void;
}

const MODEL_CLASS: Record<ModelComponent, PipelineModelClass> = {
  unet: "UNet2DConditionModel",
  vae: "AutoencoderKL",
  text_encoder: "CLIPTextModel",
};

/**
 * The folder holding the pipeline `source` names: a local folder, or the Hub repo's snapshot in the Hugging Face
 * cache with the files the pipeline needs (model_index.json first, then `pipelineFiles`' choice).
 */
export function resolvePipeline(source: string, opts: LoadPipelineOptions = {}): Promise<string> {
  const choose = async (paths: readonly string[], read: (path: string) => Promise<string>) => {
    if (!paths.includes(MODEL_INDEX)) throw new Error(`no ${MODEL_INDEX}: it is not a diffusers pipeline`);
    return pipelineFiles(paths, await readJsonObject(await read(MODEL_INDEX)), opts.variant);
  };
  return resolveRepo(source, choose, "pipeline", opts);
}

/** A local diffusers folder, or a Hub repo id ("org/name", downloaded into the cache; see resolvePipeline). */
export async function loadPipeline(source: string, opts: LoadPipelineOptions = {}): Promise<Pipeline> {
  const dir = await resolvePipeline(source, opts);
  const modelIndex = await readJsonObject(join(dir, MODEL_INDEX));
  checkModelIndex(modelIndex, join(dir, MODEL_INDEX));
  const loaded: PipelineModel[] = [];
  try {
    const components = Object.keys(MODEL_CLASS) as ModelComponent[];
    for (const component of components) {
      opts.onComponent?.(component, loaded.length, components.length);
      loaded.push(await loadModel(dir, component, opts.variant));
    }
    const [unet, vae, textEncoder] = loaded as [UNet2DConditionModel, AutoencoderKL, CLIPTextModel];
    const tokenizerDir = join(dir, "tokenizer");
    const pipeline: Pipeline = {
      unet,
      vae,
      textEncoder,
      tokenizer: await CLIPTokenizer.fromFiles(tokenizerDir),
      scheduler: await DDIMScheduler.fromPretrained(join(dir, "scheduler")),
      config: { modelIndex, tokenizerFiles: await readTokenizerFiles(tokenizerDir) },
    };
    checkCompatible(pipeline, dir);
    return pipeline;
  } catch (error) {
    for (const model of loaded) model.dispose();
    throw error;
  }
}

/** Builds one model component shape-only from its config.json, then loads its weights (the only allocation). */
async function loadModel(dir: string, component: ModelComponent, variant: string | undefined): Promise<PipelineModel> {
  const folder = join(dir, component);
  const configPath = join(folder, CONFIG_FILE[component]);
  const config = await readJsonObject(configPath);
  let weightsPath: string;
  try {
    weightsPath = join(folder, pickWeightsFile(component, await readdir(folder), variant));
  } catch (error) {
    throw new Error(`${folder}: ${(error as Error).message}`);
  }
  const model = buildModel(MODEL_CLASS[component], config, SHAPE_ONLY, configPath);
  try {
    loadModelWeights(model, await readWeights(weightsPath), `${component} weights ${weightsPath}`);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** Every tensor of a safetensors file as F32, read one at a time (integer buffers too, so unexpected ones are named). */
async function readWeights(path: string): Promise<TensorMap> {
  const file = await openSafetensors(path);
  try {
    const out: TensorMap = {};
    for (const name of file.names()) {
      const t = await file.read(name);
      out[name] = { shape: t.shape, data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data) };
    }
    return out;
  } finally {
    await file.close();
  }
}

async function readTokenizerFiles(dir: string): Promise<Record<string, string>> {
  const present = new Set(await readdir(dir));
  const names = [...TOKENIZER_FILES.required, ...TOKENIZER_FILES.optional.filter((n) => present.has(n))];
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(join(dir, n), "utf8")] as const)));
}

/** The components must fit together: latent channels, cross-attention width, token ids and sequence length. */
function checkCompatible(p: Pipeline, dir: string): void {
  const problems: string[] = [];
  const latent = p.vae.config.latent_channels;
  const hidden = p.textEncoder.config.hidden_size;
  for (const key of ["in_channels", "out_channels"] as const) {
    if (p.unet.config[key] !== latent) problems.push(`unet ${key}=${p.unet.config[key]} but vae latent_channels=${latent}`);
  }
  const cross = p.unet.config.cross_attention_dim;
  if ((Array.isArray(cross) ? cross : [cross]).some((d) => d !== hidden)) {
    problems.push(`unet cross_attention_dim=${JSON.stringify(cross)} but text_encoder hidden_size=${hidden}`);
  }
  const { vocab_size: vocab, max_position_embeddings: positions } = p.textEncoder.config;
  const tokenIds = { bos: p.tokenizer.bosTokenId, eos: p.tokenizer.eosTokenId, pad: p.tokenizer.padTokenId };
  for (const [name, id] of Object.entries(tokenIds)) {
    if (id >= vocab) problems.push(`tokenizer ${name} id ${id} is outside text_encoder vocab_size=${vocab}`);
  }
  if (p.tokenizer.modelMaxLength > positions) {
    problems.push(`tokenizer model_max_length=${p.tokenizer.modelMaxLength} exceeds text_encoder max_position_embeddings=${positions}`);
  }
  if (problems.length) throw new Error(`${dir}: the components do not fit together:\n  ${problems.join("\n  ")}`);
}

/**
 * Writes `pipeline` into `dir` (which must not exist) in diffusers' layout: model_index.json, each model's
 * config.json and F32 safetensors, the tokenizer files, the DDIM scheduler_config.json. Atomic: the folder appears
 * complete or not at all.
 */
export async function savePipeline(dir: string, pipeline: Pipeline): Promise<void> {
  if (await pathExists(dir)) throw new Error(`cannot save the pipeline to ${dir}: it already exists`);
  await writeDirAtomic(dir, async (tmp) => {
    const write = async (path: string, data: string | Uint8Array) => {
      await mkdir(join(tmp, path, ".."), { recursive: true });
      await writeFile(join(tmp, path), data);
    };
    const json = (value: unknown) => JSON.stringify(value, null, 2) + "\n";
    await write(MODEL_INDEX, json(modelIndexJson()));
    const models: Record<ModelComponent, PipelineModel> = { unet: pipeline.unet, vae: pipeline.vae, text_encoder: pipeline.textEncoder };
    for (const [component, model] of Object.entries(models) as Array<[ModelComponent, PipelineModel]>) {
      await write(`${component}/${CONFIG_FILE[component]}`, json(modelConfigJson(model)));
      await write(`${component}/${WEIGHTS_STEM[component]}.safetensors`, encodeSafetensors(stateDict(model), { format: "pt" }));
    }
    for (const [name, text] of Object.entries(pipeline.config.tokenizerFiles)) await write(`tokenizer/${name}`, text);
    const scheduler = { _class_name: "DDIMScheduler", _diffusers_version: DIFFUSERS_VERSION, ...pipeline.scheduler.config };
    await write(`scheduler/${CONFIG_FILE.scheduler}`, json(scheduler));
  });
}

/** model_index.json for what savePipeline writes: the five components, no safety checker. */
export function modelIndexJson(): ModelIndex {
  return {
    _class_name: "StableDiffusionPipeline",
    _diffusers_version: DIFFUSERS_VERSION,
    feature_extractor: [null, null],
    requires_safety_checker: false,
    safety_checker: [null, null],
    scheduler: ["diffusers", "DDIMScheduler"],
    text_encoder: ["transformers", "CLIPTextModel"],
    tokenizer: ["transformers", "CLIPTokenizer"],
    unet: ["diffusers", "UNet2DConditionModel"],
    vae: ["diffusers", "AutoencoderKL"],
  };
}

export function disposePipeline(pipeline: Pipeline): void {
  pipeline.unet.dispose();
  pipeline.vae.dispose();
  pipeline.textEncoder.dispose();
}
