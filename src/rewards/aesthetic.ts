/**
 * `aesthetic`: the LAION aesthetic predictor (improved-aesthetic-predictor, "sac+logos+ava1-l14-linearMSE", the head
 * TRL's AlignProp/DDPO examples load from trl-lib/ddpo-aesthetic-predictor): CLIP ViT-L/14's image embedding,
 * L2-normalised, through an MLP 768→1024→128→64→16→1. Its nn.Sequential interleaves Dropout (inactive at inference)
 * and has no activations, so keys are layers.0/2/4/6/7 and the whole head is one affine map of a unit vector.
 *
 * Weights: the CLIP checkpoint from a folder or Hub repo (safetensors), the head from a safetensors file — convert the
 * public `aesthetic-model.pth` once with scripts/convert-aesthetic-head.py.
 */
import * as tf from "@tensorflow/tfjs";
import { resolveFile, type SourceOptions } from "../io/hub.js";
import { readSafetensors, type TensorMap } from "../io/safetensors.js";
import { l2Normalize } from "../models/clip/clip-model.js";
import { CLIP_RESAMPLES, clipPreprocess, type ClipResample } from "../models/clip/image-preprocess.js";
import { loadClipVisionModel, type CLIPVisionModelWithProjection } from "../models/clip/vision-model.js";
import { Module, SHAPE_ONLY, type BuildContext } from "../models/nn/module.js";
import { Linear } from "../models/nn/layers.js";
import { loadStateDict } from "../models/nn/state-dict.js";
import type { Reward } from "./reward.js";
import { parseRewardArgs } from "./reward-args.js";

/** The CLIP model the LAION head was trained on. */
export const AESTHETIC_CLIP = "openai/clip-vit-large-patch14";
/** LAION's widths: CLIP ViT-L/14 embedding → 1024 → 128 → 64 → 16 → score. */
export const LAION_HEAD_WIDTHS: readonly number[] = Object.freeze([768, 1024, 128, 64, 16, 1]);
/** Where the Linear layers sit in the nn.Sequential (1, 3, 5 are Dropout). */
const LINEAR_INDICES: readonly number[] = [0, 2, 4, 6, 7];

/** nn.Dropout at inference: the identity. It has no parameters; it keeps the Linear layers at their indices. */
class Dropout extends Module {}

/** The head as `layers` = [Linear, Dropout, Linear, Dropout, Linear, Dropout, Linear, Linear]. */
export class AestheticHead extends Module {
  readonly layers: Module[];

  /** `widths`: input width, the four hidden widths, output width 1 (LAION_HEAD_WIDTHS for the public head). */
  constructor(ctx: BuildContext, readonly widths: readonly number[]) {
    super();
    if (widths.length !== LINEAR_INDICES.length + 1 || widths[widths.length - 1] !== 1) {
      throw new Error(`aesthetic head widths=[${widths}] must be 6 widths ending in 1 (LAION's are [${LAION_HEAD_WIDTHS}])`);
    }
    this.layers = Array.from({ length: LINEAR_INDICES.at(-1)! + 1 }, (_, at): Module => {
      const i = LINEAR_INDICES.indexOf(at);
      return i < 0 ? new Dropout() : new Linear(ctx, widths[i]!, widths[i + 1]!);
    });
  }

  private get linears(): Linear[] {
    return LINEAR_INDICES.map((at) => this.layers[at] as Linear);
  }

  /** embeds [B, widths[0]] → scores [B] */
  forward(embeds: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.squeeze(this.linears.reduce((x: tf.Tensor, layer) => layer.forward(x), embeds), [1]) as tf.Tensor1D);
  }

  /**
   * The exact range over unit-norm inputs. Without activations the head is w·x + b, so on the unit sphere it spans
   * b ± ‖w‖, with w and b read off by running the head on the identity and on zero.
   */
  unitInputRange(): [number, number] {
    return tf.tidy(() => {
      const n = this.widths[0]!;
      const b = this.forward(tf.zeros([1, n]) as tf.Tensor2D); // [1]
      const w = tf.sub(this.forward(tf.eye(n) as tf.Tensor2D), b); // [n]
      const [bias, norm] = [b.dataSync()[0]!, tf.norm(w).dataSync()[0]!];
      return [bias - norm, bias + norm];
    });
  }
}

/** The head's widths read off its weights (`layers.N.weight` [out, in]), checked to chain. */
export function aestheticHeadWidths(tensors: TensorMap, source: string): number[] {
  const shapes = LINEAR_INDICES.map((at) => tensors[`layers.${at}.weight`]?.shape);
  const absent = LINEAR_INDICES.filter((_, i) => shapes[i]?.length !== 2).map((at) => `layers.${at}.weight`);
  if (absent.length) throw new Error(`${source} is not an aesthetic head: no 2-d ${absent.join(", ")}`);
  const widths = [shapes[0]![1]!, ...shapes.map((s) => s![0]!)];
  shapes.forEach((s, i) => {
    if (s![1] !== widths[i]) throw new Error(`${source}: layers.${LINEAR_INDICES[i]}.weight is [${s}], but the previous layer gives ${widths[i]} features`);
  });
  return widths;
}

/** Reads a head from a safetensors file (widths from its shapes). */
export async function loadAestheticHead(path: string): Promise<AestheticHead> {
  const { tensors } = await readSafetensors(path);
  const head = new AestheticHead(SHAPE_ONLY, aestheticHeadWidths(tensors, path));
  loadStateDict(head, tensors, { source: path });
  return head;
}

export interface AestheticRewardOptions {
  /** Default "bicubic" (CLIPImageProcessor's); "bilinear" is TRL's torchvision Resize. */
  resample?: ClipResample;
  /** Named in the description, e.g. the CLIP source. */
  clipName?: string;
  /** The reward's name (default "aesthetic"). */
  name?: string;
}

/** The reward over an already-loaded vision tower and head. */
export function aestheticReward(vision: CLIPVisionModelWithProjection, head: AestheticHead, opts: AestheticRewardOptions = {}): Reward {
  const resample = opts.resample ?? "bicubic";
  const size = vision.config.image_size;
  if (head.widths[0] !== vision.config.projection_dim) {
    throw new Error(`the aesthetic head takes ${head.widths[0]}-d embeddings but the CLIP model gives projection_dim=${vision.config.projection_dim}`);
  }
  return {
    info: {
      name: opts.name ?? "aesthetic",
      description:
        `LAION aesthetic predictor (MLP ${head.widths.join("→")}) on the L2-normalised image embedding of CLIP ${opts.clipName ?? ""}`.trimEnd() +
        `; images are CLIP-preprocessed inside (shortest edge → ${size}, ${resample} antialiased, centre crop), so any size is scored`,
      inputSize: null,
      range: head.unitInputRange(),
      differentiable: true,
    },
    score: (images) => ({
      rewards: tf.tidy(() => {
        const pixels = clipPreprocess(images, { size, resample }); // [B, S, S, 3]
        return head.forward(l2Normalize(vision.forward(pixels).imageEmbeds)); // [B]
      }),
      meta: {},
    }),
  };
}

const ARGS = {
  head: "<aesthetic head .safetensors: a path or org/name/file>",
  clip: `<CLIP folder or Hub repo, default ${AESTHETIC_CLIP}>`,
  revision: "<Hub revision of clip, default main>",
  resample: CLIP_RESAMPLES.join("|"),
};

/**
 * `--reward aesthetic:head=…[,clip=…][,revision=…][,resample=…]`. Hub access follows HF_TOKEN, HF_ENDPOINT, HF_HOME
 * and HF_HUB_OFFLINE unless `hub` says otherwise.
 */
export async function aestheticFromSpec(arg: string | undefined, hub: SourceOptions = {}): Promise<Reward> {
  const args = parseRewardArgs("aesthetic", arg, ARGS);
  if (!args.head) {
    throw new Error(
      "reward aesthetic needs the head's weights as safetensors: convert trl-lib/ddpo-aesthetic-predictor's aesthetic-model.pth once " +
        "with scripts/convert-aesthetic-head.py, then use --reward aesthetic:head=./aesthetic-head.safetensors",
    );
  }
  const resample = (args.resample ?? "bicubic") as ClipResample;
  if (!CLIP_RESAMPLES.includes(resample)) throw new Error(`reward aesthetic: resample=${args.resample} must be one of ${CLIP_RESAMPLES.join(", ")}`);
  const clip = args.clip ?? AESTHETIC_CLIP;
  const headPath = await resolveFile(args.head, { ...hub, revision: undefined });
  return loadAestheticReward(headPath, clip, { ...hub, revision: args.revision ?? hub.revision }, { resample, clipName: clip });
}

/** The head from a local safetensors file over the vision tower of `clip` (a folder or Hub repo). */
export async function loadAestheticReward(headPath: string, clip: string, source: SourceOptions, opts: AestheticRewardOptions): Promise<Reward> {
  const head = await loadAestheticHead(headPath);
  try {
    return aestheticReward(await loadClipVisionModel(clip, source), head, opts);
  } catch (error) {
    head.dispose();
    throw error;
  }
}
