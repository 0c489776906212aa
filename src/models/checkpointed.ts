/**
 * Checkpointed blocks while a call is traced. Tracing a gradient runs the model's forward and backward passes once
 * as TF.js ops, and the wasm heap keeps whatever peak that reaches. With each block checkpointed the pass holds the
 * block boundaries and one block's activations, not the whole model's. The recomputation costs nothing in the graph:
 * the recorder (src/tf/ort/trace.ts) sees the same kernels on the same values and reuses the first pass's nodes.
 * Outside a trace, or with no gradient being recorded, the block is a plain call.
 */
import * as tf from "@tensorflow/tfjs";
import { checkpointCall } from "../tf/checkpoint.js";
import { tracing } from "../tf/ort/trace.js";
import type { Module } from "./nn/module.js";
import { callWeights, isTrainable } from "./weights.js";

/** `f(...inputs)`, a call of `block`: checkpointed inside a traced gradient, else as it is. */
export function checkpointed<T extends tf.Tensor>(block: Module, inputs: tf.Tensor[], f: (...xs: tf.Tensor[]) => T): T {
  if (!tracing() || !tf.engine().isTapeOn()) return f(...inputs);
  return checkpointCall(f, inputs, callWeights(block).all.filter(isTrainable));
}
