/**
 * The four pretraining stages of the embedded default, each a plain objective on the synthetic world:
 *
 *   1. CLIP (Radford et al. 2021): the symmetric InfoNCE loss between image and caption embeddings; captions that
 *      repeat inside a batch share the target mass, so duplicates are not pushed apart.
 *   2. The aesthetic head (the LAION predictor's recipe): MSE from the frozen CLIP's L2-normalised image embedding to
 *      the world's hidden preference score.
 *   3. The VAE (Rombach et al. 2022, without the GAN): L1 + L2 reconstruction of z ~ q(z|x) decoded (L2 pulls the
 *      colours in early, L1 sharpens the edges), plus a small KL to N(0, I).
 *   4. The UNet (Ho et al. 2020, ε-prediction): noise x_0 = scaling_factor · E(x) to x_t with SD's schedule and
 *      predict the noise from x_t, t and the frozen CLIP text encoder's last hidden states; 10% of captions are
 *      empty, so classifier-free guidance has an unconditional model to subtract.
 */
import * as tf from "@tensorflow/tfjs";
import { aestheticScore, randomCaption } from "../data/shapes-world.js";
import { encodePrompts } from "../diffusion/pipeline-sample.js";
import type { DDIMScheduler } from "../diffusion/ddim.js";
import { l2Normalize, type CLIPModel } from "../models/clip/clip-model.js";
import { clipPreprocess } from "../models/clip/image-preprocess.js";
import type { CLIPTextModel } from "../models/clip/text-model.js";
import type { CLIPTokenizer } from "../models/clip/tokenizer.js";
import type { UNet2DConditionModel } from "../models/unet/unet-2d-condition.js";
import type { AutoencoderKL } from "../models/vae/autoencoder-kl.js";
import type { AestheticHead } from "../rewards/aesthetic.js";
import { Rng } from "../util/rng.js";
import { runStage, variablesOf, type StageProgress } from "./optimise.js";
import { toSigned, worldBatch } from "./world-batch.js";

export interface StageSettings {
  steps: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

type OnStep = (p: StageProgress) => void;

/** What every stage sets the same way: its name, steps, peak learning rate, a 5% warm-up, the variables it trains. */
function common(name: string, s: StageSettings, params: tf.Variable[]) {
  return { name, steps: s.steps, learningRate: s.learningRate, warmup: Math.ceil(s.steps / 20), params };
}

/** CLIP's image input for the world's images (the preprocessing every CLIP reward applies). */
function clipPixels(clip: CLIPModel, images: tf.Tensor4D): tf.Tensor4D {
  return clipPreprocess(images, { size: clip.config.vision_config.image_size });
}

/** Cross-entropy of each row of `logits` against the row-normalised `targets`. */
function softCrossEntropy(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), 1))) as tf.Scalar);
}

/** ln(100): CLIP clamps its learned temperature there. */
const MAX_LOGIT_SCALE = Math.log(100);

export function trainClip(clip: CLIPModel, tokenizer: CLIPTokenizer, s: StageSettings, onStep?: OnStep): number[] {
  const rng = new Rng(s.seed);
  clip.logit_scale.tensor.assign(tf.scalar(Math.log(1 / 0.07))); // CLIP's initial temperature
  return runStage(
    {
      ...common("clip", s, variablesOf(clip)),
      prepare: () => {
        const { scenes, images } = worldBatch(rng, s.batchSize);
        const captions = scenes.map((sc) => randomCaption(sc, rng, 0.8));
        const { ids, shape } = tokenizer.batch(captions);
        const same = captions.map((a) => captions.map((b): number => (a === b ? 1 : 0)));
        const targets = tf.tensor2d(same.map((row) => row.map((v) => v / row.reduce((x, y) => x + y, 0))));
        return { pixels: clipPixels(clip, images), ids: tf.tensor2d(ids, shape, "int32"), targets };
      },
      loss: ({ pixels, ids, targets }) => {
        const logits = clip.forward(pixels, ids).logitsPerImage; // [B images, B captions]
        return tf.div(tf.add(softCrossEntropy(logits, targets), softCrossEntropy(tf.transpose(logits), targets)), 2) as tf.Scalar;
      },
      afterStep: () => tf.tidy(() => clip.logit_scale.tensor.assign(tf.clipByValue(clip.logit_scale.tensor, 0, MAX_LOGIT_SCALE))),
    },
    onStep,
  );
}

/** The frozen CLIP's L2-normalised image embeddings of a world batch, with the batch's preference scores. */
function embedWorld(clip: CLIPModel, rng: Rng, n: number): { embeds: tf.Tensor2D; scores: tf.Tensor1D } {
  return tf.tidy(() => {
    const { scenes, images } = worldBatch(rng, n);
    const embeds = l2Normalize(clip.getImageFeatures(clipPixels(clip, images)));
    return { embeds, scores: tf.tensor1d(scenes.map((sc) => aestheticScore(sc))) };
  });
}

export interface HeadFit {
  losses: number[];
  /** Pearson correlation of the head's predictions and the true scores on held-out images. */
  heldOutCorrelation: number;
}

export function trainAestheticHead(head: AestheticHead, clip: CLIPModel, s: StageSettings, onStep?: OnStep): HeadFit {
  const rng = new Rng(s.seed);
  const pool = embedWorld(clip, rng, 8 * s.batchSize); // embeddings are fixed: draw batches from a pool
  const heldOut = embedWorld(clip, rng, 2 * s.batchSize);
  try {
    const losses = runStage(
      {
        ...common("aesthetic", s, variablesOf(head)),
        prepare: () => {
          const rows = tf.tensor1d(Array.from({ length: s.batchSize }, () => rng.int(pool.scores.shape[0])), "int32");
          return { x: tf.gather(pool.embeds, rows), y: tf.gather(pool.scores, rows) };
        },
        loss: ({ x, y }) => tf.losses.meanSquaredError(y, head.forward(x as tf.Tensor2D)) as tf.Scalar,
      },
      onStep,
    );
    const heldOutCorrelation = tf.tidy(() => correlation(head.forward(heldOut.embeds), heldOut.scores));
    return { losses, heldOutCorrelation };
  } finally {
    tf.dispose([pool.embeds, pool.scores, heldOut.embeds, heldOut.scores]);
  }
}

function correlation(a: tf.Tensor1D, b: tf.Tensor1D): number {
  const da = tf.sub(a, tf.mean(a));
  const db = tf.sub(b, tf.mean(b));
  return tf.div(tf.sum(tf.mul(da, db)), tf.sqrt(tf.mul(tf.sum(tf.square(da)), tf.sum(tf.square(db))))).dataSync()[0]!;
}

/** Weight of the KL term against the mean reconstruction error. */
const VAE_KL_WEIGHT = 1e-4;

export function trainVae(vae: AutoencoderKL, s: StageSettings, onStep?: OnStep): number[] {
  const rng = new Rng(s.seed);
  return runStage(
    {
      ...common("vae", s, variablesOf(vae)),
      prepare: () => {
        const { images } = worldBatch(rng, s.batchSize);
        const x = toSigned(images);
        const [b, h, w] = x.shape;
        const f = vae.downscale;
        return { x, eps: tf.tensor4d(rng.normal(b * (h / f) * (w / f) * vae.config.latent_channels), [b, h / f, w / f, vae.config.latent_channels]) };
      },
      loss: ({ x, eps }) => {
        const { mean, logvar } = vae.encode(x);
        const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logvar, 0.5)), eps)) as tf.Tensor4D;
        const error = tf.sub(vae.decode(z), x);
        const reconstruction = tf.add(tf.mean(tf.abs(error)), tf.mean(tf.square(error)));
        const kl = tf.mul(0.5, tf.mean(tf.sub(tf.add(tf.square(mean), tf.exp(logvar)), tf.add(1, logvar))));
        return tf.add(reconstruction, tf.mul(kl, VAE_KL_WEIGHT)) as tf.Scalar;
      },
    },
    onStep,
  );
}

/** 1 / std of the VAE's latent means over `n` world images: SD's recipe for `scaling_factor` (unit-variance latents). */
export function latentScale(vae: AutoencoderKL, seed: number, n = 256): number {
  return tf.tidy(() => {
    const { images } = worldBatch(new Rng(seed), n);
    const { mean } = vae.encode(toSigned(images));
    return 1 / Math.sqrt(tf.moments(mean).variance.dataSync()[0]!);
  });
}

export interface UNetStageModels {
  unet: UNet2DConditionModel;
  /** Frozen: encodes the images (its config's scaling_factor must be set). */
  vae: AutoencoderKL;
  /** Frozen: the CLIP text tower. */
  textEncoder: CLIPTextModel;
  tokenizer: CLIPTokenizer;
  /** Its training schedule (ᾱ_t over num_train_timesteps) is the one learned. */
  scheduler: DDIMScheduler;
}

/** Share of captions replaced by the empty prompt, for classifier-free guidance. */
const UNCONDITIONAL_SHARE = 0.1;

export function trainUNet(m: UNetStageModels, s: StageSettings, onStep?: OnStep): number[] {
  const rng = new Rng(s.seed);
  const T = m.scheduler.config.num_train_timesteps;
  return runStage(
    {
      ...common("unet", s, variablesOf(m.unet)),
      prepare: () => {
        const { scenes, images } = worldBatch(rng, s.batchSize);
        const captions = scenes.map((sc) => (rng.uniform() < UNCONDITIONAL_SHARE ? "" : randomCaption(sc, rng, 0.5)));
        const x0 = tf.mul(m.vae.encode(toSigned(images)).mean, m.vae.config.scaling_factor) as tf.Tensor4D;
        const t = Array.from({ length: s.batchSize }, () => rng.int(T));
        const abar = t.map((ti) => m.scheduler.alphasCumprod[ti]!);
        const eps = tf.tensor4d(rng.normal(x0.size), x0.shape);
        const column = (v: number[]) => tf.tensor4d(v, [v.length, 1, 1, 1]);
        const xt = tf.add(tf.mul(x0, column(abar.map(Math.sqrt))), tf.mul(eps, column(abar.map((a) => Math.sqrt(1 - a))))) as tf.Tensor4D;
        return { xt, eps, t: tf.tensor1d(t), context: encodePrompts(m, captions) };
      },
      loss: ({ xt, eps, t, context }) => tf.losses.meanSquaredError(eps, m.unet.forward(xt, t, context)) as tf.Scalar,
    },
    onStep,
  );
}
