/**
 * What an AlignProp checkpoint holds besides the RNG state: the LoRA weights under their diffusers file keys
 * (`unet.<module path>.lora.down.weight`, PyTorch layout, so a checkpoint's LoRA tensors are the exported file's),
 * AdamW's moments under `optimizer.<same key>.exp_avg` / `.exp_avg_sq`, and its step count `optimizer.step`.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../io/safetensors.js";
import type { LoraAdapters } from "../models/lora.js";
import { fromTorch, toTorch } from "../models/nn/state-dict.js";
import type { AdamW } from "./alignprop-adamw.js";

const STEP_KEY = "optimizer.step";

/** PyTorch layout of a TF.js-layout linear tensor: [in, out] → [out, in]. */
const torchData = (t: tf.Tensor) => tf.tidy(() => tf.transpose(t)).dataSync() as Float32Array;

export function trainingState(lora: LoraAdapters, optimizer: AdamW): TensorMap {
  const out: TensorMap = {};
  lora.namedParameters().forEach(([key, p], i) => {
    const shape = [...p.torchShape];
    out[`unet.${key}`] = { shape, data: toTorch(p) };
    out[`optimizer.unet.${key}.exp_avg`] = { shape, data: torchData(optimizer.expAvg[i]!) };
    out[`optimizer.unet.${key}.exp_avg_sq`] = { shape, data: torchData(optimizer.expAvgSq[i]!) };
  });
  out[STEP_KEY] = { shape: [1], data: Float32Array.of(optimizer.stepCount) };
  return out;
}

/** Loads what `trainingState` wrote; every missing, unexpected or mis-shaped key is named. */
export function restoreTrainingState(lora: LoraAdapters, optimizer: AdamW, tensors: TensorMap): void {
  const params = lora.namedParameters();
  const expected = new Map<string, readonly number[]>([[STEP_KEY, [1]]]);
  for (const [key, p] of params) {
    for (const k of [`unet.${key}`, `optimizer.unet.${key}.exp_avg`, `optimizer.unet.${key}.exp_avg_sq`]) expected.set(k, p.torchShape);
  }
  const missing = [...expected.keys()].filter((k) => !(k in tensors));
  const unexpected = Object.keys(tensors).filter((k) => !expected.has(k));
  const misshaped = [...expected].filter(([k, s]) => tensors[k] && tensors[k].shape.join(",") !== s.join(","));
  if (missing.length || unexpected.length || misshaped.length) {
    const list = (title: string, keys: string[]) => (keys.length ? `\n  ${title} (${keys.length}): ${keys.join(", ")}` : "");
    throw new Error(
      "checkpoint does not match this AlignProp job:" +
        list("missing", missing) +
        list("unexpected", unexpected) +
        list("wrong shape", misshaped.map(([k, s]) => `${k}: checkpoint [${tensors[k]!.shape}] vs job [${s}]`)),
    );
  }
  params.forEach(([key, p], i) => {
    const assign = (target: tf.Variable, data: Float32Array) => {
      const value = fromTorch(p, data);
      target.assign(value);
      value.dispose();
    };
    assign(p.tensor, tensors[`unet.${key}`]!.data);
    assign(optimizer.expAvg[i]!, tensors[`optimizer.unet.${key}.exp_avg`]!.data);
    assign(optimizer.expAvgSq[i]!, tensors[`optimizer.unet.${key}.exp_avg_sq`]!.data);
  });
  optimizer.stepCount = tensors[STEP_KEY]!.data[0]!;
}
