/**
 * transformers' CLIP vision tower (`CLIPVisionTransformer`) and `CLIPVisionModelWithProjection`: patch embedding
 * (a stride-`patch_size` convolution without bias), a learned class token, learned position embeddings, LayerNorm
 * (`pre_layrnorm`, sic: the checkpoint key), the same pre-LayerNorm transformer layers as the text tower (no mask),
 * and `post_layernorm` on the class token. Property paths are the checkpoint keys
 * (`vision_model.encoder.layers.7.mlp.fc1.weight`, `visual_projection.weight`).
 *
 * `imageEmbeds` = visual_projection(post_layernorm(last_hidden_state[:, 0])), what `CLIPModel.get_image_features`
 * returns and what the LAION aesthetic head and CLIP scores read.
 */
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import type { SourceOptions } from "../../io/hub.js";
import type { TensorMap } from "../../io/safetensors.js";
import { makeParam, Module, SHAPE_ONLY, type BuildContext, type Param } from "../nn/module.js";
import { Conv2d, Embedding, LayerNorm, Linear } from "../nn/layers.js";
import { loadStateDict } from "../nn/state-dict.js";
import { DEFAULT_CLIP_TEXT_CONFIG, type ClipTextConfig } from "./text-config.js";
import { CLIPEncoderLayer } from "./text-encoder-layer.js";
import { readJsonObject } from "../../io/json-file.js";
import { CONFIG_FILE, readCheckpointTensors, resolveClipCheckpoint } from "./clip-files.js";
import { clipVisionConfigOf, type ClipVisionConfig } from "./vision-config.js";

/**
 * CLIPEncoderLayer reads only hidden_size, intermediate_size, num_attention_heads, hidden_act and layer_norm_eps;
 * the vision layers are that same layer, built from a text config carrying the vision tower's five values.
 */
function encoderLayerConfig(c: ClipVisionConfig): ClipTextConfig {
  const { hidden_size, intermediate_size, num_attention_heads, hidden_act, layer_norm_eps } = c;
  return { ...DEFAULT_CLIP_TEXT_CONFIG, hidden_size, intermediate_size, num_attention_heads, hidden_act, layer_norm_eps };
}

export class CLIPVisionEmbeddings extends Module {
  readonly class_embedding: Param;
  readonly patch_embedding: Conv2d;
  readonly position_embedding: Embedding;

  constructor(ctx: BuildContext, config: ClipVisionConfig) {
    super();
    const d = config.hidden_size;
    const patches = (config.image_size / config.patch_size) ** 2;
    this.class_embedding = makeParam(ctx, [d], "plain", "embedding");
    this.patch_embedding = new Conv2d(ctx, config.num_channels, d, config.patch_size, config.patch_size, 0, false);
    this.position_embedding = new Embedding(ctx, patches + 1, d);
  }

  /** pixels [B, S, S, C] → [B, 1 + (S/patch)², D]: class token first, then patches row by row. */
  forward(pixels: tf.Tensor4D): tf.Tensor3D {
    const patches = this.patch_embedding.forward(pixels); // [B, S/p, S/p, D]
    const [b, gh, gw, d] = patches.shape;
    const tokens = tf.reshape(patches, [b, gh * gw, d]); // [B, N, D], the order of PyTorch's flatten(2).transpose(1, 2)
    const cls = tf.broadcastTo(tf.reshape(this.class_embedding.tensor, [1, 1, d]), [b, 1, d]); // [B, 1, D]
    // Every position is used once, in order, so the lookup of position_ids 0…N is the whole table.
    return tf.add(tf.concat([cls, tokens], 1), this.position_embedding.weight.tensor) as tf.Tensor3D; // [B, 1+N, D]
  }
}

export class CLIPVisionEncoder extends Module {
  readonly layers: CLIPEncoderLayer[];

  constructor(ctx: BuildContext, config: ClipVisionConfig) {
    super();
    const layerConfig = encoderLayerConfig(config);
    this.layers = Array.from({ length: config.num_hidden_layers }, () => new CLIPEncoderLayer(ctx, layerConfig));
  }

  /** x [B, T, D] → [B, T, D]; every token attends to every token (an all-zero additive mask). */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const mask = tf.zeros([x.shape[1], x.shape[1]]) as tf.Tensor2D; // [T, T]
    return this.layers.reduce((h, layer) => layer.forward(h, mask), x);
  }
}

export interface CLIPVisionOutput {
  /** [B, T, D], the encoder's output (before post_layernorm). */
  lastHiddenState: tf.Tensor3D;
  /** [B, D]: post_layernorm of the class token, transformers' `pooler_output`. */
  pooledOutput: tf.Tensor2D;
}

/** transformers' `CLIPVisionTransformer`, the `vision_model.` part of the keys. */
export class CLIPVisionTransformer extends Module {
  readonly embeddings: CLIPVisionEmbeddings;
  readonly pre_layrnorm: LayerNorm;
  readonly encoder: CLIPVisionEncoder;
  readonly post_layernorm: LayerNorm;

  constructor(ctx: BuildContext, readonly config: ClipVisionConfig) {
    super();
    this.embeddings = new CLIPVisionEmbeddings(ctx, config);
    this.pre_layrnorm = new LayerNorm(ctx, config.hidden_size, config.layer_norm_eps);
    this.encoder = new CLIPVisionEncoder(ctx, config);
    this.post_layernorm = new LayerNorm(ctx, config.hidden_size, config.layer_norm_eps);
  }

  /** pixelValues [B, S, S, C], normalised as CLIPImageProcessor does (see image-preprocess.ts). */
  forward(pixelValues: tf.Tensor4D): CLIPVisionOutput {
    const { image_size: s, num_channels: c } = this.config;
    const [, h, w, ch] = pixelValues.shape;
    if (pixelValues.rank !== 4 || h !== s || w !== s || ch !== c) {
      throw new Error(`CLIP vision forward: pixel values must be [B, ${s}, ${s}, ${c}] (image_size=${s}), got [${pixelValues.shape}]`);
    }
    return tf.tidy(() => {
      const embedded = this.pre_layrnorm.forward(this.embeddings.forward(pixelValues)) as tf.Tensor3D; // [B, T, D]
      const hidden = this.encoder.forward(embedded); // [B, T, D]
      const [b, , d] = hidden.shape;
      const cls = tf.reshape(tf.slice(hidden, [0, 0, 0], [b, 1, d]), [b, d]); // [B, D]
      return { lastHiddenState: hidden, pooledOutput: this.post_layernorm.forward(cls) as tf.Tensor2D };
    });
  }
}

export interface CLIPVisionWithProjectionOutput extends CLIPVisionOutput {
  /** [B, projection_dim], not normalised. */
  imageEmbeds: tf.Tensor2D;
}

/** transformers' `CLIPVisionModelWithProjection`; its keys are the vision half of a `CLIPModel` checkpoint. */
export class CLIPVisionModelWithProjection extends Module {
  readonly vision_model: CLIPVisionTransformer;
  readonly visual_projection: Linear;

  constructor(ctx: BuildContext, readonly config: ClipVisionConfig) {
    super();
    this.vision_model = new CLIPVisionTransformer(ctx, config);
    this.visual_projection = new Linear(ctx, config.hidden_size, config.projection_dim, false);
  }

  /** pixelValues [B, S, S, C] normalised → embeddings and hidden states. */
  forward(pixelValues: tf.Tensor4D): CLIPVisionWithProjectionOutput {
    return tf.tidy(() => {
      const out = this.vision_model.forward(pixelValues);
      return { ...out, imageEmbeds: this.visual_projection.forward(out.pooledOutput) as tf.Tensor2D };
    });
  }
}

/** transformers' buffer, saved in older checkpoints: not a parameter. */
export const VISION_POSITION_IDS_KEY = "vision_model.embeddings.position_ids";

/** The keys of a `CLIPModel` checkpoint that the vision tower with its projection reads. */
export const isVisionKey = (key: string): boolean => key.startsWith("vision_model.") || key.startsWith("visual_projection.");

/** Loads vision weights into `model`, ignoring the `position_ids` buffer older files carry. */
export function loadClipVisionStateDict(model: CLIPVisionModelWithProjection, tensors: TensorMap, source = "CLIP vision state dict"): void {
  loadStateDict(model, tensors, { source, ignore: (key) => key === VISION_POSITION_IDS_KEY });
}

/**
 * The vision tower with its projection from a CLIP checkpoint (a `CLIPModel` or `CLIPVisionModelWithProjection`
 * folder or Hub repo): config.json and the vision keys of its safetensors weights; the text half is not read.
 */
export async function loadClipVisionModel(source: string, opts: SourceOptions = {}): Promise<CLIPVisionModelWithProjection> {
  const dir = await resolveClipCheckpoint(source, false, opts);
  let config: ClipVisionConfig;
  try {
    config = clipVisionConfigOf(await readJsonObject(join(dir, CONFIG_FILE)));
  } catch (error) {
    throw new Error(`${source}: ${(error as Error).message}`);
  }
  const model = new CLIPVisionModelWithProjection(SHAPE_ONLY, config);
  const tensors = await readCheckpointTensors(dir, (key) => isVisionKey(key) && key !== VISION_POSITION_IDS_KEY);
  loadClipVisionStateDict(model, tensors, `${source} (vision weights)`);
  return model;
}
