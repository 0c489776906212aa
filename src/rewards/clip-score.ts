/**
 * `clip-score`: how well each image matches its prompt, the cosine similarity of CLIP's image and text embeddings,
 * in [−1, 1]. This is the raw cosine AlignProp's HPS reward uses (HPSv2 and `CLIPModel.logits_per_image` report it
 * × exp(logit_scale) = 100; torchmetrics' CLIPScore is 100 · max(cos, 0), whose clamp would cut the gradient).
 * Any transformers CLIP checkpoint works (openai/clip-vit-large-patch14 by default; an HPSv2/PickScore fine-tune
 * once converted to transformers' layout).
 */
import * as tf from "@tensorflow/tfjs";
import type { SourceOptions } from "../io/hub.js";
import { l2Normalize, loadClipModel, type CLIPModel } from "../models/clip/clip-model.js";
import { CLIP_RESAMPLES, clipPreprocess, type ClipResample } from "../models/clip/image-preprocess.js";
import type { CLIPTokenizer } from "../models/clip/tokenizer.js";
import type { Reward } from "./reward.js";
import { parseRewardArgs } from "./reward-args.js";

export const CLIP_SCORE_CLIP = "openai/clip-vit-large-patch14";

export interface ClipScoreOptions {
  /** Default "bicubic" (CLIPImageProcessor's). */
  resample?: ClipResample;
  /** Named in the description, e.g. the CLIP source. */
  clipName?: string;
  /** The reward's name (default "clip-score"). */
  name?: string;
}

/** The reward over an already-loaded CLIPModel and its tokenizer. */
export function clipScoreReward(model: CLIPModel, tokenizer: CLIPTokenizer, opts: ClipScoreOptions = {}): Reward {
  const resample = opts.resample ?? "bicubic";
  const size = model.config.vision_config.image_size;
  return {
    info: {
      name: opts.name ?? "clip-score",
      description:
        `cosine similarity of the image and prompt embeddings of CLIP ${opts.clipName ?? ""}`.trimEnd() +
        `; images are CLIP-preprocessed inside (shortest edge → ${size}, ${resample} antialiased, centre crop), so any size is scored`,
      inputSize: null,
      range: [-1, 1],
      differentiable: true,
    },
    score: (images, prompts) => ({
      rewards: tf.tidy(() => {
        const { ids, shape } = tokenizer.batch(prompts);
        const text = l2Normalize(model.getTextFeatures(tf.tensor2d(ids, shape, "int32"))); // [B, P]
        const image = l2Normalize(model.getImageFeatures(clipPreprocess(images, { size, resample }))); // [B, P]
        return tf.sum(tf.mul(image, text), -1) as tf.Tensor1D; // [B]
      }),
      meta: {},
    }),
  };
}

const ARGS = {
  clip: `<CLIP folder or Hub repo, default ${CLIP_SCORE_CLIP}>`,
  revision: "<Hub revision, default main>",
  resample: CLIP_RESAMPLES.join("|"),
};

/**
 * `--reward clip-score[:clip=…][,revision=…][,resample=…]`. Hub access follows HF_TOKEN, HF_ENDPOINT, HF_HOME and
 * HF_HUB_OFFLINE unless `hub` says otherwise.
 */
export async function clipScoreFromSpec(arg: string | undefined, hub: SourceOptions = {}): Promise<Reward> {
  const args = parseRewardArgs("clip-score", arg, ARGS);
  const resample = (args.resample ?? "bicubic") as ClipResample;
  if (!CLIP_RESAMPLES.includes(resample)) throw new Error(`reward clip-score: resample=${args.resample} must be one of ${CLIP_RESAMPLES.join(", ")}`);
  const clip = args.clip ?? CLIP_SCORE_CLIP;
  return loadClipScoreReward(clip, { ...hub, revision: args.revision ?? hub.revision }, { resample, clipName: clip });
}

/** The reward over the CLIP checkpoint `clip` (a folder or Hub repo) and its tokenizer. */
export async function loadClipScoreReward(clip: string, source: SourceOptions, opts: ClipScoreOptions): Promise<Reward> {
  const { model, tokenizer } = await loadClipModel(clip, source);
  return clipScoreReward(model, tokenizer, opts);
}
