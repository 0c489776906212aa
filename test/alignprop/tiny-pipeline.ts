/**
 * A tiny random Stable Diffusion pipeline for AlignProp tests: a two-level SD1.5-layout UNet (8×8 latents), a
 * one-block VAE (8×8 images), a two-layer CLIP text encoder over the tokenizer fixture's 874-token vocabulary
 * (8 tokens a prompt), SD1.5's DDIM schedule, and LoRA r=4 on the attention projections.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { AlignPropJob } from "../../src/algorithms/alignprop.js";
import type { DiffusionComponents } from "../../src/algorithms/conditioning.js";
import type { Chain } from "../../src/diffusion/differentiable-sampler.js";
import { decodeLatents } from "../../src/diffusion/pipeline-sample.js";
import type { PromptSource } from "../../src/data/prompt-source.js";
import type { AlignPropOptions } from "../../src/algorithms/alignprop-options.js";
import { DEFAULT_RUN_CONFIG } from "../../src/config/schema.js";
import { drawPrompt } from "../../src/data/shape-prompts.js";
import { DDIMScheduler, SD15_DDIM_CONFIG } from "../../src/diffusion/ddim.js";
import { validateClipTextConfig } from "../../src/models/clip/text-config.js";
import { CLIPTextModel } from "../../src/models/clip/text-model.js";
import { parseMerges } from "../../src/models/clip/tokenizer-bpe.js";
import { CLIPTokenizer } from "../../src/models/clip/tokenizer.js";
import { attachLora, DEFAULT_LORA_CONFIG } from "../../src/models/lora.js";
import { AutoencoderKL } from "../../src/models/vae/autoencoder-kl.js";
import { validateVaeConfig } from "../../src/models/vae/config.js";
import { brightness } from "../../src/rewards/builtin.js";
import type { Reward } from "../../src/rewards/reward.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";
import { randomContext } from "../lora/tiny-unet.js";

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));
const readJson = (path: string) => JSON.parse(readFileSync(root(path), "utf8")) as Record<string, unknown>;


/** Two levels, one resnet each, attention at the top level: the fewest kernels that still exercise every block kind. */
const UNET = {
  block_out_channels: [8, 16],
  down_block_types: ["CrossAttnDownBlock2D", "DownBlock2D"],
  up_block_types: ["UpBlock2D", "CrossAttnUpBlock2D"],
  layers_per_block: 1,
  attention_head_dim: 2,
  cross_attention_dim: 12,
  norm_num_groups: 4,
  sample_size: 8,
};



/** Small enough that decoded images stay inside [0, 1]: the clamp stays off, so losses are smooth in the weights. */
const VAE_STD = 0.1;

export function tinyComponents(seed = 1): DiffusionComponents {
  const unet = new UNet2DConditionModel(randomContext(seed), UNET);
  const vaeConfig = validateVaeConfig({ block_out_channels: [8], layers_per_block: 1, norm_num_groups: 4, sample_size: 8 });
  const vocab = readJson("test/fixtures/tokenizer/tiny/vocab.json") as Record<string, number>;
  const merges = parseMerges(readFileSync(root("test/fixtures/tokenizer/tiny/merges.txt"), "utf8"));
  const tokenizer = new CLIPTokenizer(vocab, merges, { modelMaxLength: 8 });
  const clipConfig = validateClipTextConfig({
    vocab_size: Object.keys(vocab).length,
    hidden_size: 12,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 8,
    eos_token_id: tokenizer.eosTokenId,
  });
  return {
    unet,
    lora: attachLora(unet, DEFAULT_LORA_CONFIG, { seed }),
    vae: new AutoencoderKL(randomContext(seed + 1000, VAE_STD), vaeConfig),
    textEncoder: new CLIPTextModel(randomContext(seed + 2000), clipConfig),
    tokenizer,
    scheduler: new DDIMScheduler(SD15_DDIM_CONFIG),
  };
}

export function disposeComponents(c: DiffusionComponents): void {
  c.lora.dispose();
  for (const m of [c.unet, c.vae, c.textEncoder]) m.dispose();
}

/** TRL's defaults with a 3-step chain, one image a step, and a high learning rate. */
export const TINY_OPTIONS: AlignPropOptions = {
  ...DEFAULT_RUN_CONFIG,
  seed: 3,
  sample_num_steps: 3,
  truncated_backprop_timestep: 2,
  truncated_rand_backprop_minmax: [0, 3],
  train_learning_rate: 1e-2,
};

export const shapePrompts: PromptSource = (rng) => drawPrompt(rng);

/** A job built over fresh tiny components (seeded by `seed`); `release` disposes both. */
export function overTinyComponents<J extends { dispose(): void }>(build: (c: DiffusionComponents) => J, seed: number) {
  const components = tinyComponents(seed);
  const job = build(components);
  return {
    job,
    components,
    release: () => {
      job.dispose();
      disposeComponents(components);
    },
  };
}

/** An AlignProp job over fresh tiny components (seeded by `seed`), released with `release`. */
export function tinyJob(options: Partial<AlignPropOptions> = {}, reward: Reward = brightness, seed = 1) {
  return overTinyComponents((c) => new AlignPropJob(c, { ...TINY_OPTIONS, ...options }, reward, shapePrompts), seed);
}

/** Weights of every LoRA variable, for bit-for-bit comparisons. */
export const loraValues = (c: DiffusionComponents) => c.lora.trainableVariables().map((v) => tf.tidy(() => [...v.dataSync()]));

/**
 * A guided chain of `steps` DDIM steps with η = 1 over one fixed image, LoRA B given random values (so A has a
 * gradient too), the job's loss (decode, brightness, −mean), and `release` to dispose it all.
 */
export function tinyChain(seed: number, steps = 3) {
  const c = tinyComponents(seed);
  let s = seed * 100;
  for (const v of c.lora.trainableVariables()) tf.tidy(() => v.assign(tf.add(v, tf.randomNormal(v.shape, 0, 0.3, "float32", s++))));
  c.scheduler.setTimesteps(steps);
  const { ids, shape } = c.tokenizer.batch(["", "a red circle"]);
  const chain: Chain = {
    unet: c.unet,
    scheduler: c.scheduler,
    context: tf.tidy(() => c.textEncoder.forward(tf.tensor2d(ids, shape, "int32")).lastHiddenState), // [negative; prompt]
    guidanceScale: 5,
    eta: 1,
    noise: Array.from({ length: steps }, (_, i) => tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", seed + i) as tf.Tensor4D),
  };
  const xT = tf.randomNormal([1, 8, 8, 4], 0, 1, "float32", seed + 50) as tf.Tensor4D;
  const loss = (x0: tf.Tensor4D) =>
    tf.tidy(() => tf.neg(tf.mean(brightness.score(decodeLatents(c.vae, x0), ["a red circle"], [{}]).rewards)) as tf.Scalar);
  const release = () => {
    tf.dispose([chain.context, xT, ...chain.noise]);
    disposeComponents(c);
  };
  return { c, chain, xT, loss, vars: c.lora.trainableVariables(), release };
}
