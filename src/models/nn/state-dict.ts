/**
 * Loading and saving a module's parameters as a PyTorch-layout state dict (what safetensors files hold). Loading
 * asserts the key sets are equal and every shape matches, naming each missing, unexpected or mis-shaped key.
 */
import * as tf from "@tensorflow/tfjs";
import type { TensorMap } from "../../io/safetensors.js";
import type { Module, Param } from "./module.js";

/** PyTorch-layout data → TF.js-layout tensor. */
export function fromTorch(param: Param, data: Float32Array): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(data, [...param.torchShape]);
    if (param.layout === "linear") return tf.transpose(t, [1, 0]);
    if (param.layout === "conv") return tf.transpose(t, [2, 3, 1, 0]);
    return t;
  });
}

/** TF.js-layout tensor → PyTorch-layout data. */
export function toTorch(param: Param): Float32Array {
  return tf.tidy(() => {
    const t = param.tensor;
    if (param.layout === "linear") return tf.transpose(t, [1, 0]);
    if (param.layout === "conv") return tf.transpose(t, [3, 2, 0, 1]);
    return tf.clone(t);
  }).dataSync() as Float32Array;
}

export interface LoadOptions {
  /** Keys in the file to ignore (e.g. CLIP's `text_model.embeddings.position_ids` buffer). */
  ignore?: (key: string) => boolean;
  /** Old key → current key (e.g. the VAE's `query` → `to_q`). */
  rename?: (key: string) => string;
  source?: string;
}

export function loadStateDict(module: Module, tensors: TensorMap, opts: LoadOptions = {}): void {
  const source = opts.source ?? "state dict";
  const params = new Map(module.namedParameters());
  const given = new Map<string, TensorMap[string]>();
  for (const [key, t] of Object.entries(tensors)) {
    if (opts.ignore?.(key)) continue;
    given.set(opts.rename ? opts.rename(key) : key, t);
  }
  const missing = [...params.keys()].filter((k) => !given.has(k));
  const unexpected = [...given.keys()].filter((k) => !params.has(k));
  const misshaped = [...params].flatMap(([k, p]) => {
    const t = given.get(k);
    return t && t.shape.join(",") !== p.torchShape.join(",") ? [`${k}: file [${t.shape}] vs model [${p.torchShape}]`] : [];
  });
  if (missing.length || unexpected.length || misshaped.length) {
    const list = (title: string, keys: string[]) => (keys.length ? `\n  ${title} (${keys.length}): ${keys.join(", ")}` : "");
    throw new Error(
      `${source} does not match the model:` +
        list("missing", missing) +
        list("unexpected", unexpected) +
        list("wrong shape", misshaped),
    );
  }
  for (const [key, p] of params) {
    const value = fromTorch(p, given.get(key)!.data);
    if (p.value) {
      p.value.assign(value);
      value.dispose();
    } else {
      p.value = tf.variable(value, false);
      value.dispose();
    }
  }
}

export function stateDict(module: Module): TensorMap {
  const out: TensorMap = {};
  for (const [key, p] of module.namedParameters()) out[key] = { shape: [...p.torchShape], data: toTorch(p) };
  return out;
}
