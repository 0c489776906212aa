/**
 * transformers' `CLIPTextModel`: token + position embeddings, a causal transformer, a final LayerNorm. Property
 * paths are the checkpoint keys (`text_model.encoder.layers.3.self_attn.q_proj.weight`).
 *
 * Stable Diffusion conditions its UNet on `lastHiddenState` [B, 77, D] (`encoder_hidden_states`); `pooledOutput`
 * is transformers' `pooler_output`, the final-LayerNorm state at the eos position (see `eos_token_id`).
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../io/safetensors.js";
import { Module, type BuildContext } from "../nn/module.js";
import { Embedding, LayerNorm } from "../nn/layers.js";
import { loadStateDict } from "../nn/state-dict.js";
import type { ClipTextConfig } from "./text-config.js";
import { causalMask, CLIPEncoderLayer } from "./text-encoder-layer.js";

export class CLIPTextEmbeddings extends Module {
  readonly token_embedding: Embedding;
  readonly position_embedding: Embedding;

  constructor(ctx: BuildContext, config: ClipTextConfig) {
    super();
    this.token_embedding = new Embedding(ctx, config.vocab_size, config.hidden_size);
    this.position_embedding = new Embedding(ctx, config.max_position_embeddings, config.hidden_size);
  }

  /** ids [B, T] int32 → [B, T, D]; positions are 0…T−1. */
  forward(ids: tf.Tensor2D): tf.Tensor3D {
    const positions = tf.range(0, ids.shape[1], 1, "int32");
    return tf.add(this.token_embedding.forward(ids), this.position_embedding.forward(positions)) as tf.Tensor3D;
  }
}

export class CLIPEncoder extends Module {
  readonly layers: CLIPEncoderLayer[];

  constructor(ctx: BuildContext, config: ClipTextConfig) {
    super();
    this.layers = Array.from({ length: config.num_hidden_layers }, () => new CLIPEncoderLayer(ctx, config));
  }

  /** x [B, T, D] → [B, T, D] */
  forward(x: tf.Tensor3D): tf.Tensor3D {
    const mask = causalMask(x.shape[1]);
    return this.layers.reduce((h, layer) => layer.forward(h, mask), x);
  }
}

/** transformers' `CLIPTextTransformer`, the `text_model.` part of the keys. */
export class CLIPTextTransformer extends Module {
  readonly embeddings: CLIPTextEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly final_layer_norm: LayerNorm;

  constructor(ctx: BuildContext, config: ClipTextConfig) {
    super();
    this.embeddings = new CLIPTextEmbeddings(ctx, config);
    this.encoder = new CLIPEncoder(ctx, config);
    this.final_layer_norm = new LayerNorm(ctx, config.hidden_size, config.layer_norm_eps);
  }
}

export interface CLIPTextOutput {
  /** [B, T, D] after the final LayerNorm: SD's `encoder_hidden_states`. */
  lastHiddenState: tf.Tensor3D;
  /** [B, D]: `lastHiddenState` at each row's eos position. */
  pooledOutput: tf.Tensor2D;
}

export class CLIPTextModel extends Module {
  readonly text_model: CLIPTextTransformer;

  constructor(ctx: BuildContext, readonly config: ClipTextConfig) {
    super();
    this.text_model = new CLIPTextTransformer(ctx, config);
  }

  /** ids [B, T] int32 with T ≤ max_position_embeddings (77 for SD) → hidden states and pooled output. */
  forward(ids: tf.Tensor2D): CLIPTextOutput {
    const maxLength = this.config.max_position_embeddings;
    if (ids.rank !== 2 || ids.dtype !== "int32" || ids.shape[1] > maxLength) {
      throw new Error(`CLIPTextModel.forward: ids must be int32 [B, T ≤ ${maxLength}], got ${ids.dtype} [${ids.shape}]`);
    }
    return tf.tidy(() => {
      const { embeddings, encoder, final_layer_norm } = this.text_model;
      const hidden = final_layer_norm.forward(encoder.forward(embeddings.forward(ids))) as tf.Tensor3D; // [B, T, D]
      const [b, t, d] = hidden.shape;
      // Flat row indices rather than gather's batchDims, which tfjs-backend-wasm 4.22 gets wrong for rows > 0.
      const rows = tf.add(eosPositions(ids, this.config.eos_token_id), tf.range(0, b * t, t, "int32")); // [B]
      return { lastHiddenState: hidden, pooledOutput: tf.gather(tf.reshape(hidden, [b * t, d]), rows) as tf.Tensor2D };
    });
  }
}

/**
 * transformers' pooling index per row: with `eos_token_id` 2 (old OpenAI-converted configs) the argmax of the ids,
 * otherwise the first position equal to `eos_token_id`. Ties and a missing eos both give the first such position
 * (0 when absent), as torch's argmax does.
 */
function eosPositions(ids: tf.Tensor2D, eosTokenId: number): tf.Tensor1D {
  return tf.tidy(() => (eosTokenId === 2 ? tf.argMax(ids, -1) : tf.argMax(tf.cast(tf.equal(ids, eosTokenId), "int32"), -1)));
}

/** transformers' persistent buffer in older checkpoints, not a parameter. */
export const POSITION_IDS_KEY = "text_model.embeddings.position_ids";

const PREFIX = "text_model.";

/**
 * Loads transformers CLIP text weights into `model`, ignoring the `position_ids` buffer older files carry. Published
 * checkpoints name every key `text_model.…`; transformers ≥ 5 saves them without that prefix (and loads both), so a
 * file whose keys all lack it gets it added.
 */
export function loadClipTextStateDict(model: CLIPTextModel, tensors: TensorMap, source = "CLIP text state dict"): void {
  const unprefixed = Object.keys(tensors).every((key) => !key.startsWith(PREFIX));
  loadStateDict(model, tensors, {
    source,
    ...(unprefixed ? { rename: (key: string) => PREFIX + key } : {}),
    ignore: (key) => key === POSITION_IDS_KEY || (unprefixed && PREFIX + key === POSITION_IDS_KEY),
  });
}
