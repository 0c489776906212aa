/**
 * transformers' `CLIPModel`: the text tower (`CLIPTextModel`'s `text_model`) and the vision tower, each followed by
 * a bias-free projection into a shared space, and the learned temperature `logit_scale`. Property paths are the
 * checkpoint keys (`text_model.…`, `vision_model.…`, `visual_projection.weight`, `text_projection.weight`,
 * `logit_scale`).
 *
 * logits_per_image[i, j] = exp(logit_scale) · cos(image_i, text_j), as transformers computes it.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { SourceOptions } from "../../io/hub.js";
import type { TensorMap } from "../../io/safetensors.js";
import { makeParam, Module, SHAPE_ONLY, type BuildContext, type Param } from "../nn/module.js";
import { Linear } from "../nn/layers.js";
import { loadStateDict } from "../nn/state-dict.js";
import { readJsonObject } from "../../io/json-file.js";
import { CONFIG_FILE, readCheckpointTensors, resolveClipCheckpoint } from "./clip-files.js";
import { validateClipTextConfig, type ClipTextConfig } from "./text-config.js";
import { CLIPTextModel, POSITION_IDS_KEY, type CLIPTextTransformer } from "./text-model.js";
import { CLIPTokenizer } from "./tokenizer.js";
import { clipVisionConfigOf, nestedClipConfig, type ClipVisionConfig } from "./vision-config.js";
import { CLIPVisionTransformer, VISION_POSITION_IDS_KEY } from "./vision-model.js";

export interface ClipModelConfig {
  readonly text_config: ClipTextConfig;
  /** Its `projection_dim` is the top-level one (what both projections use). */
  readonly vision_config: ClipVisionConfig;
  readonly projection_dim: number;
}

/** A transformers `CLIPConfig` (config.json with `text_config` and `vision_config`) → a checked `ClipModelConfig`. */
export function validateClipModelConfig(raw: Record<string, unknown>): ClipModelConfig {
  if (!("text_config" in raw || "text_config_dict" in raw) || !("vision_config" in raw || "vision_config_dict" in raw)) {
    throw new Error(`a CLIPModel config needs "text_config" and "vision_config"; got the keys ${Object.keys(raw).join(", ") || "(none)"}`);
  }
  const vision_config = clipVisionConfigOf(raw);
  const text_config = validateClipTextConfig(nestedClipConfig(raw, "text"));
  return Object.freeze({ text_config, vision_config, projection_dim: vision_config.projection_dim });
}

export interface CLIPModelOutput {
  /** [B_images, B_texts]: exp(logit_scale) × cosine similarity. */
  logitsPerImage: tf.Tensor2D;
  /** [B_images, P], L2-normalised. */
  imageEmbeds: tf.Tensor2D;
  /** [B_texts, P], L2-normalised. */
  textEmbeds: tf.Tensor2D;
}

export class CLIPModel extends Module {
  readonly text_model: CLIPTextTransformer;
  readonly vision_model: CLIPVisionTransformer;
  readonly visual_projection: Linear;
  readonly text_projection: Linear;
  /** log of the inverse temperature, a 0-d parameter (ln(1/0.07) = 2.6592 at initialisation). */
  readonly logit_scale: Param;
  /** The text tower with its eos pooling; its `text_model` is the one above (a private field is not a key). */
  readonly #text: CLIPTextModel;

  constructor(ctx: BuildContext, readonly config: ClipModelConfig) {
    super();
    this.#text = new CLIPTextModel(ctx, config.text_config);
    this.text_model = this.#text.text_model;
    this.vision_model = new CLIPVisionTransformer(ctx, config.vision_config);
    this.visual_projection = new Linear(ctx, config.vision_config.hidden_size, config.projection_dim, false);
    this.text_projection = new Linear(ctx, config.text_config.hidden_size, config.projection_dim, false);
    this.logit_scale = makeParam(ctx, [], "plain", "bias");
  }

  /** pixelValues [B, S, S, 3] normalised → [B, P], transformers' `get_image_features` (not normalised). */
  getImageFeatures(pixelValues: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.visual_projection.forward(this.vision_model.forward(pixelValues).pooledOutput) as tf.Tensor2D);
  }

  /** ids [B, T] int32 → [B, P], transformers' `get_text_features` (not normalised). */
  getTextFeatures(ids: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.text_projection.forward(this.#text.forward(ids).pooledOutput) as tf.Tensor2D);
  }

  forward(pixelValues: tf.Tensor4D, ids: tf.Tensor2D): CLIPModelOutput {
    return tf.tidy(() => {
      const imageEmbeds = l2Normalize(this.getImageFeatures(pixelValues)); // [Bi, P]
      const textEmbeds = l2Normalize(this.getTextFeatures(ids)); // [Bt, P]
      const scale = tf.exp(this.logit_scale.tensor);
      const logitsPerImage = tf.mul(tf.matMul(imageEmbeds, textEmbeds, false, true), scale) as tf.Tensor2D; // [Bi, Bt]
      return { logitsPerImage, imageEmbeds, textEmbeds };
    });
  }
}

/** x / ‖x‖₂ along the last axis (no epsilon, as transformers). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.norm(x, 2, -1, true)) as tf.Tensor2D);
}

/** Loads a `CLIPModel` checkpoint, ignoring the `position_ids` buffers older files carry. */
export function loadClipModelStateDict(model: CLIPModel, tensors: TensorMap, source = "CLIP state dict"): void {
  loadStateDict(model, tensors, { source, ignore: (key) => key === POSITION_IDS_KEY || key === VISION_POSITION_IDS_KEY });
}

export interface LoadedClipModel {
  model: CLIPModel;
  tokenizer: CLIPTokenizer;
}

/** A `CLIPModel` checkpoint with its tokenizer, from a folder or Hub repo in transformers' layout. */
export async function loadClipModel(source: string, opts: SourceOptions = {}): Promise<LoadedClipModel> {
  const dir = await resolveClipCheckpoint(source, true, opts);
  let config: ClipModelConfig;
  try {
    config = validateClipModelConfig(await readJsonObject(join(dir, CONFIG_FILE)));
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const tokenizer = await CLIPTokenizer.fromFiles(dir);
  const maxLength = config.text_config.max_position_embeddings;
  if (tokenizer.modelMaxLength > maxLength) {
    throw new Error(`${source}: the tokenizer's model_max_length=${tokenizer.modelMaxLength} exceeds the text config's max_position_embeddings=${maxLength}`);
  }
  const model = new CLIPModel(SHAPE_ONLY, config);
  const tensors = await readCheckpointTensors(dir, (key) => key !== POSITION_IDS_KEY && key !== VISION_POSITION_IDS_KEY);
  loadClipModelStateDict(model, tensors, `${source} (weights)`);
  return { model, tokenizer };
}
