/**
 * `alignprop pretrain`: builds the embedded default from nothing, in TF.js — a tokenizer for the world's words, a
 * tiny CLIP (the alignment reward, and the pipeline's text encoder as SD uses CLIP's), the aesthetic head on its
 * image embeddings, a VAE and a UNet — then checks that samples follow their prompts and writes everything:
 *
 *   <out>/model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/   the pipeline, in diffusers' layout
 *   <out>/clip/          the CLIP model with its tokenizer, in transformers' layout (reward `tiny-clip-score`)
 *   <out>/aesthetic/head.safetensors   the LAION-layout head over clip/'s image embeddings (reward `tiny-aesthetic`)
 *   <out>/pretrain.json  settings, stage timings and losses, the colour-following evaluation
 *   <out>/README.md      the model card
 */
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { captionWords, WORLD_SIZE } from "../data/shapes-world.js";
import { DDIMScheduler, SD15_DDIM_CONFIG } from "../diffusion/ddim.js";
import { pathExists } from "../io/path-exists.js";
import { encodeSafetensors } from "../io/safetensors.js";
import { CLIPModel, validateClipModelConfig } from "../models/clip/clip-model.js";
import { saveClipModel } from "../models/clip/clip-save.js";
import { CLIPTextModel, loadClipTextStateDict } from "../models/clip/text-model.js";
import { parseMerges } from "../models/clip/tokenizer-bpe.js";
import { CLIPTokenizer } from "../models/clip/tokenizer.js";
import { clipTokenizerFiles } from "../models/clip/tokenizer-train.js";
import { torchInit } from "../models/nn/init.js";
import { SHAPE_ONLY } from "../models/nn/module.js";
import { loadStateDict, stateDict } from "../models/nn/state-dict.js";
import { disposePipeline, modelIndexJson, savePipeline, type Pipeline } from "../models/pipeline.js";
import { UNet2DConditionModel } from "../models/unet/unet-2d-condition.js";
import { AutoencoderKL } from "../models/vae/autoencoder-kl.js";
import { validateVaeConfig } from "../models/vae/config.js";
import { AestheticHead } from "../rewards/aesthetic.js";
import { evaluateColours, type ColourEvaluation } from "./evaluate.js";
import type { StageProgress } from "./optimise.js";
import { latentScale, trainAestheticHead, trainClip, trainUNet, trainVae, type StageSettings } from "./stages.js";

/** Longest caption: "a large red circle at the top left on a blue background" is 12 words, 14 tokens with bos/eos. */
export const MAX_TOKENS = 16;
const WIDTH = 64;

export const TINY_CLIP = {
  projection_dim: WIDTH,
  text_config: { hidden_size: WIDTH, intermediate_size: 2 * WIDTH, num_hidden_layers: 2, num_attention_heads: 4, max_position_embeddings: MAX_TOKENS },
  vision_config: { hidden_size: WIDTH, intermediate_size: 2 * WIDTH, num_hidden_layers: 2, num_attention_heads: 4, image_size: WORLD_SIZE, patch_size: 8 },
};
/** LAION's layout (Linear layers at 0, 2, 4, 6, 7), narrower. */
export const TINY_HEAD_WIDTHS = [WIDTH, 64, 32, 16, 8, 1];
/**
 * 32×32 images ↔ 8×8×4 latents. One GroupNorm group: each group's mean and variance are normalised away, and a flat
 * area's colour lives in exactly those numbers — with one channel a group the decoder cannot say what colour a flat
 * area is at all; with two groups its colours drift (yellow → orange, cyan → blue: 60% of reconstructions keep the
 * colour after an 800-step run, against 71% with one group). The shipped VAE (2400 steps) keeps it in 99.8%.
 */
export const TINY_VAE = {
  block_out_channels: [8, 16, 32],
  down_block_types: ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
  up_block_types: ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
  layers_per_block: 1,
  latent_channels: 4,
  norm_num_groups: 1,
  sample_size: WORLD_SIZE,
};
export const TINY_UNET = {
  sample_size: 8,
  in_channels: 4,
  out_channels: 4,
  block_out_channels: [32, 64],
  down_block_types: ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
  up_block_types: ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  layers_per_block: 1,
  attention_head_dim: 4,
  cross_attention_dim: WIDTH,
  norm_num_groups: 8,
};

/** The full recipe: steps, batch sizes and learning rates of the four stages (41 minutes on 2 cores). */
export const STAGES = {
  clip: { steps: 1200, batchSize: 128, learningRate: 1e-3 },
  aesthetic: { steps: 600, batchSize: 256, learningRate: 1e-3 },
  vae: { steps: 2400, batchSize: 16, learningRate: 3e-3 },
  unet: { steps: 4000, batchSize: 32, learningRate: 1e-3 },
} as const;
export type StageName = keyof typeof STAGES;
export const STAGE_NAMES = Object.keys(STAGES) as StageName[];

export interface PretrainOptions {
  out: string;
  /** Multiplies every stage's step count (≥ 1 step each): 1 is the full recipe, small values a quick check. */
  scale: number;
  seed: number;
  /** Replace `out` if it exists. */
  force: boolean;
  /** Samples for the colour evaluation. */
  evalSamples: number;
  onStep?: (p: StageProgress) => void;
  log?: (line: string) => void;
}

export interface PretrainResult {
  out: string;
  seconds: Record<StageName | "evaluate" | "total", number>;
  finalLoss: Record<StageName, number>;
  aestheticCorrelation: number;
  vaeScalingFactor: number;
  evaluation: ColourEvaluation;
  /** Colour accuracy at each quarter of the UNet stage (a smaller evaluation), to see whether more steps would help. */
  unetCurve: Array<{ step: number; accuracy: number }>;
}

export function stageSteps(scale: number): Record<StageName, number> {
  return Object.fromEntries(STAGE_NAMES.map((n) => [n, Math.max(1, Math.round(STAGES[n].steps * scale))])) as Record<StageName, number>;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The mean of the last tenth of the losses (at least one). */
const tailLoss = (losses: number[]) => mean(losses.slice(-Math.max(1, Math.ceil(losses.length / 10))));

export async function pretrainTinyShapes(o: PretrainOptions): Promise<PretrainResult> {
  if (!(o.scale > 0) || !Number.isFinite(o.scale)) throw new Error(`scale=${o.scale} must be a positive number`);
  if (!o.force && (await pathExists(o.out))) throw new Error(`out=${o.out} already exists: pass --force to replace it`);
  const log = o.log ?? (() => {});
  const steps = stageSteps(o.scale);
  const settings = (name: StageName, i: number): StageSettings => ({ ...STAGES[name], steps: steps[name], seed: o.seed * 100 + i });
  const started = performance.now();
  const seconds = {} as PretrainResult["seconds"];
  const timed = <T>(name: keyof PretrainResult["seconds"], f: () => T): T => {
    const t0 = performance.now();
    const value = f();
    seconds[name] = (performance.now() - t0) / 1000;
    return value;
  };

  const tokenizerFiles = clipTokenizerFiles(captionWords(), MAX_TOKENS);
  const vocab = JSON.parse(tokenizerFiles["vocab.json"]!) as Record<string, number>;
  const tokenizer = new CLIPTokenizer(vocab, parseMerges(tokenizerFiles["merges.txt"]!), { modelMaxLength: MAX_TOKENS });
  const clipConfig = validateClipModelConfig({
    ...TINY_CLIP,
    text_config: { ...TINY_CLIP.text_config, vocab_size: Object.keys(vocab).length, eos_token_id: tokenizer.eosTokenId },
  });
  const clip = new CLIPModel(torchInit(o.seed), clipConfig);
  const head = new AestheticHead(torchInit(o.seed + 1), TINY_HEAD_WIDTHS);
  let vae = new AutoencoderKL(torchInit(o.seed + 2), validateVaeConfig(TINY_VAE));
  const unet = new UNet2DConditionModel(torchInit(o.seed + 3), TINY_UNET);
  const textEncoder = new CLIPTextModel(SHAPE_ONLY, clipConfig.text_config);
  const scheduler = new DDIMScheduler(SD15_DDIM_CONFIG);
  try {
    log(`clip: ${steps.clip} steps`);
    const clipLosses = timed("clip", () => trainClip(clip, tokenizer, settings("clip", 1), o.onStep));
    log(`aesthetic head: ${steps.aesthetic} steps`);
    const headFit = timed("aesthetic", () => trainAestheticHead(head, clip, settings("aesthetic", 2), o.onStep));
    log(`vae: ${steps.vae} steps`);
    const vaeLosses = timed("vae", () => trainVae(vae, settings("vae", 3), o.onStep));
    const vaeScalingFactor = latentScale(vae, o.seed * 100 + 9);
    vae = withScalingFactor(vae, vaeScalingFactor);
    const textWeights = Object.fromEntries(Object.entries(stateDict(clip)).filter(([k]) => k.startsWith("text_model.")));
    loadClipTextStateDict(textEncoder, textWeights, "the CLIP text tower");
    log(`unet: ${steps.unet} steps`);
    const pipelineModels = { unet, vae, textEncoder, tokenizer, scheduler };
    const unetCurve: PretrainResult["unetCurve"] = [];
    const quarters = new Set([1, 2, 3].map((k) => Math.round((k * steps.unet) / 4)).filter((s) => s > 0));
    const curveSamples = Math.min(o.evalSamples, 48);
    const onUNetStep = (p: StageProgress) => {
      o.onStep?.(p);
      if (!quarters.has(p.step)) return;
      const { accuracy } = evaluateColours(pipelineModels, { samples: curveSamples, seed: o.seed });
      unetCurve.push({ step: p.step, accuracy });
      log(`unet step ${p.step}: colour accuracy ${(100 * accuracy).toFixed(1)}% (${curveSamples} samples)`);
    };
    const unetLosses = timed("unet", () => trainUNet(pipelineModels, settings("unet", 4), onUNetStep));
    log(`evaluating colour following on ${o.evalSamples} samples`);
    const evaluation = timed("evaluate", () => evaluateColours(pipelineModels, { samples: o.evalSamples, seed: o.seed }));
    seconds.total = (performance.now() - started) / 1000;
    const result: PretrainResult = {
      out: o.out,
      seconds,
      finalLoss: { clip: tailLoss(clipLosses), aesthetic: tailLoss(headFit.losses), vae: tailLoss(vaeLosses), unet: tailLoss(unetLosses) },
      aestheticCorrelation: headFit.heldOutCorrelation,
      vaeScalingFactor,
      evaluation,
      unetCurve,
    };
    const pipeline: Pipeline = { ...pipelineModels, config: { modelIndex: modelIndexJson(), tokenizerFiles } };
    await writeModels(o, pipeline, clip, head, tokenizerFiles, result, steps);
    return result;
  } finally {
    for (const m of [clip, head, vae, unet, textEncoder]) m.dispose();
  }
}

/** The VAE rebuilt with `scaling_factor` in its config (configs are frozen), holding copies of the weights. */
function withScalingFactor(vae: AutoencoderKL, scaling_factor: number): AutoencoderKL {
  const scaled = new AutoencoderKL(SHAPE_ONLY, validateVaeConfig({ ...vae.config, scaling_factor }));
  loadStateDict(scaled, stateDict(vae), { source: "the trained VAE" });
  vae.dispose();
  return scaled;
}

async function writeModels(
  o: PretrainOptions,
  pipeline: Pipeline,
  clip: CLIPModel,
  head: AestheticHead,
  tokenizerFiles: Record<string, string>,
  result: PretrainResult,
  steps: Record<StageName, number>,
): Promise<void> {
  const staging = `${o.out}.partial-${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  try {
    await savePipeline(staging, pipeline);
    await saveClipModel(join(staging, "clip"), clip, tokenizerFiles);
    await saveHead(join(staging, "aesthetic"), head);
    const record = { recipe: { seed: o.seed, scale: o.scale, steps, stages: STAGES }, ...result, out: undefined };
    await writeFile(join(staging, "pretrain.json"), JSON.stringify(record, null, 2) + "\n");
    await writeFile(join(staging, "README.md"), modelCard(result, steps));
    if (await pathExists(o.out)) await rm(o.out, { recursive: true });
    await rename(staging, o.out);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function saveHead(dir: string, head: AestheticHead): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "head.safetensors"), encodeSafetensors(stateDict(head), { format: "pt" }));
}

function modelCard(r: PretrainResult, steps: Record<StageName, number>): string {
  const e = r.evaluation;
  return `---
library_name: diffusers
tags: [alignprop, text-to-image, stable-diffusion, synthetic]
---
# tiny-shapes

The embedded default of [alignprop](https://github.com/): a Stable Diffusion pipeline in diffusers' layout, small
enough to train on a laptop CPU, for the synthetic world of \`src/data/shapes-world.ts\` (32×32 images of a circle,
square or triangle in a named colour, small or large, at one of five places, on a plain background).
Made from nothing by \`alignprop pretrain\` in ${(r.seconds.total / 60).toFixed(1)} minutes.

| component | what |
|---|---|
| unet | UNet2DConditionModel, block_out_channels ${JSON.stringify(TINY_UNET.block_out_channels)}, 8×8×4 latents, ${steps.unet} steps |
| vae | AutoencoderKL, block_out_channels ${JSON.stringify(TINY_VAE.block_out_channels)}, 32×32 ↔ 8×8×4, scaling_factor ${r.vaeScalingFactor.toFixed(4)}, ${steps.vae} steps |
| text_encoder | the text tower of clip/ (CLIPTextModel, width ${WIDTH}, ${MAX_TOKENS} tokens) |
| tokenizer | CLIP byte-level BPE learned over the world's words |
| scheduler | DDIM with SD1.5's training schedule |
| clip/ | CLIPModel (ViT patch 8 + text tower) trained contrastively, ${steps.clip} steps: reward \`tiny-clip-score\` |
| aesthetic/head.safetensors | LAION-layout head on clip/'s image embeddings for the hidden preference (large shapes near the centre), held-out correlation ${r.aestheticCorrelation.toFixed(3)}: reward \`tiny-aesthetic\` |

Colour following (a pixel classifier with no learned weights, ${e.samples} samples "a <colour> <shape>", ${e.steps}
DDIM steps, guidance ${e.guidanceScale}): **${(100 * e.accuracy).toFixed(1)}%** of samples show the prompted colour.
${r.unetCurve.length ? `During the UNet stage (fewer samples): ${r.unetCurve.map((p) => `step ${p.step} ${(100 * p.accuracy).toFixed(1)}%`).join(", ")}.
` : ""}`;
}
