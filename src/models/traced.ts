/**
 * The pipeline's model calls as traced ONNX Runtime graphs (src/tf/ort/traced-call.ts): the UNet's noise prediction,
 * the VAE decoder and the CLIP text encoder.
 */
import * as tf from "@tensorflow/tfjs";
import { instanceId, tracedCall, tracedGraphsActive } from "../tf/ort/traced-call.js";
import type { CLIPTextModel } from "./clip/text-model.js";
import type { Module } from "./nn/module.js";
import { timestepBatch, type UNet2DConditionModel } from "./unet/index.js";
import type { AutoencoderKL } from "./vae/index.js";
import { callWeights, isTrainable } from "./weights.js";

/**
 * Frozen weights up to this size are baked into each traced graph; a larger model's are graph inputs instead, so its
 * sessions hold no copies of them (SD1.5's UNet is 3.4 GB in float32; tiny-shapes' 6 MB).
 */
export const BAKE_LIMIT_BYTES = 256 * 2 ** 20;

/**
 * The model's weights as a traced call takes them. Trainable ones (the LoRA adapters; every weight while pretraining)
 * are graph inputs; frozen ones are baked into the graph as constants (up to BAKE_LIMIT_BYTES), where ORT folds their
 * layout transposes and prepacks them, so the key names their data (a merge or a load gives them new data, hence a
 * new trace). The key also names the adapters' scale and merged state, which layers read as numbers.
 */
function weightsOf(model: Module): { inputs: tf.Tensor[]; key: string } {
  const { all, loraState } = callWeights(model);
  const frozen = all.filter((t) => !isTrainable(t));
  const lora = `${instanceId(model)}|lora ${loraState.join(",")}`;
  if (frozen.reduce((bytes, t) => bytes + 4 * t.size, 0) > BAKE_LIMIT_BYTES) return { inputs: all, key: `${lora}|inputs` };
  return { inputs: all.filter(isTrainable), key: `${lora}|frozen ${frozen.map((t) => instanceId(t.dataId)).join(",")}` };
}

/** `f`, a call of `model` on `tensors`, as a traced graph keyed `name…` (the name profiles show), or as TF.js ops. */
function modelCall<T extends tf.Tensor>(model: Module, name: string, tensors: tf.Tensor[], wrt: number[], f: () => T): T {
  if (!tracedGraphsActive()) return f();
  const { inputs, key } = weightsOf(model);
  return tracedCall(`${name}${key}`, [...tensors, ...inputs], wrt, f);
}

/** `unet.forward(sample, timestep, context)`, differentiable for the sample and the trainable weights. */
export function unetForward(
  unet: UNet2DConditionModel,
  sample: tf.Tensor4D,
  timestep: number | tf.Tensor,
  context: tf.Tensor3D,
): tf.Tensor4D {
  if (!tracedGraphsActive()) return unet.forward(sample, timestep, context);
  const timesteps = timestepBatch(timestep, sample.shape[0]); // a graph input, not a constant baked per step
  try {
    return modelCall(unet, "unet", [sample, timesteps, context], [0], () => unet.forward(sample, timesteps, context));
  } finally {
    if (timesteps !== timestep) timesteps.dispose();
  }
}

/** `vae.decode(latents)`, differentiable for the latents (and trainable weights). */
export function vaeDecode(vae: AutoencoderKL, latents: tf.Tensor4D): tf.Tensor4D {
  return modelCall(vae, "vae", [latents], [0], () => vae.decode(latents));
}

/** The text encoder's last hidden states for token ids [B, T] (int32). */
export function textLastHiddenState(textEncoder: CLIPTextModel, ids: tf.Tensor2D): tf.Tensor3D {
  return modelCall(textEncoder, "text", [ids], [], () => textEncoder.forward(ids).lastHiddenState);
}
