/**
 * The weights a model call reads: every parameter, and the LoRA adapters' own where they act (unmerged, scale ≠ 0),
 * with the adapters' state (merged, or the scale) that layers read as numbers. One listing for whoever needs it: the
 * traced calls (src/models/traced.ts) and checkpointed blocks (src/models/checkpointed.ts).
 */
import * as tf from "@tensorflow/tfjs";
import { LoraLinear } from "./lora.js";
import type { Module } from "./nn/module.js";

export interface CallWeights {
  all: tf.Tensor[];
  /** Per LoRA layer, "m" when merged, else its scale. */
  loraState: string[];
}

export function callWeights(module: Module): CallWeights {
  const all = module.namedParameters().map(([, p]) => p.tensor as tf.Tensor);
  const loraState: string[] = [];
  for (const [, m] of module.namedModules()) {
    if (!(m instanceof LoraLinear)) continue;
    loraState.push(m.merged ? "m" : String(m.loraScale));
    if (!m.merged && m.loraScale !== 0) all.push(...m.lora.namedParameters().map(([, p]) => p.tensor));
  }
  return { all, loraState };
}

/** A weight training updates: a trainable variable. */
export const isTrainable = (t: tf.Tensor): boolean => t instanceof tf.Variable && t.trainable;
