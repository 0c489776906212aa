/**
 * The pipeline's model calls as traced ONNX Runtime graphs (src/tf/ort/traced-call.ts): the UNet's noise prediction,
 * the VAE decoder and the CLIP text encoder. Each call's graph inputs are its tensors and the model's weights (so a
 * weight update or another checkpoint of the same model needs no new trace); the LoRA adapters' scale and merged
 * state are part of the key, because a layer reads them as numbers.
 */
import type * as tf from "@tensorflow/tfjs";
import { instanceId, tracedCall } from "../tf/ort/traced-call.js";
import type { CLIPTextModel } from "./clip/text-model.js";
import { LoraLinear } from "./lora.js";
import type { Module } from "./nn/module.js";
import { timestepBatch, type UNet2DConditionModel } from "./unet/index.js";
import type { AutoencoderKL } from "./vae/index.js";

/** The model's weights and its LoRA adapters' weights, and the key part naming its adapters' state. */
function weightsOf(model: Module): { weights: tf.Tensor[]; state: string } {
  const weights = model.namedParameters().map(([, p]) => p.tensor as tf.Tensor);
  const state: string[] = [];
  for (const [, m] of model.namedModules()) {
    if (!(m instanceof LoraLinear)) continue;
    state.push(m.merged ? "m" : String(m.loraScale));
    if (!m.merged && m.loraScale !== 0) weights.push(...m.lora.namedParameters().map(([, p]) => p.tensor));
  }
  return { weights, state: state.join(",") };
}

/** `unet.forward(sample, timestep, context)`, differentiable for the sample and the trainable weights. */
export function unetForward(
  unet: UNet2DConditionModel,
  sample: tf.Tensor4D,
  timestep: number | tf.Tensor,
  context: tf.Tensor3D,
): tf.Tensor4D {
  const timesteps = timestepBatch(timestep, sample.shape[0]);
  try {
    const { weights, state } = weightsOf(unet);
    const key = `unet${instanceId(unet)}|lora ${state}`;
    return tracedCall(key, [sample, timesteps, context, ...weights], [0], () => unet.forward(sample, timesteps, context));
  } finally {
    if (timesteps !== timestep) timesteps.dispose();
  }
}

/** `vae.decode(latents)`, differentiable for the latents (and trainable weights). */
export function vaeDecode(vae: AutoencoderKL, latents: tf.Tensor4D): tf.Tensor4D {
  const { weights } = weightsOf(vae);
  return tracedCall(`vae${instanceId(vae)}|decode`, [latents, ...weights], [0], () => vae.decode(latents));
}

/** The text encoder's last hidden states for token ids [B, T] (int32). */
export function textLastHiddenState(textEncoder: CLIPTextModel, ids: tf.Tensor2D): tf.Tensor3D {
  const { weights } = weightsOf(textEncoder);
  return tracedCall(`text${instanceId(textEncoder)}|last`, [ids, ...weights], [], () => textEncoder.forward(ids).lastHiddenState);
}
