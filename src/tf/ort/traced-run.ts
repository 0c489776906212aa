/**
 * Runs traced graphs (trace.ts) in ONNX Runtime on the wasm backend's tensors: the declared inputs are read in place
 * from the wasm heap and the outputs written straight into tensors TF.js owns. Sessions are cached per key apart from
 * the one-kernel sessions (same options), so those cannot evict a whole model's.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { HookSlot } from "../../util/hook-slot.js";
import { OrtSession, type OrtSessionOptions } from "./binding.js";
import { encodeModel } from "./onnx-model.js";
import { ortSessions, runOnHeap } from "./ort-kernel.js";
import { ortKernelsRegistered } from "./register.js";
import { traceGraph, type TracedGraph } from "./trace.js";

/** A traced graph's session and what running it needs (the graph itself, with its baked weights, is let go). */
export interface Compiled {
  /** The graph inputs in0, in1, … (shapes, dtypes) and which declared input each one is. */
  inputs: TracedGraph["graph"]["inputs"];
  used: TracedGraph["used"];
  outputs: TracedGraph["outputs"];
  session: OrtSession;
  /** What a profile calls its runs: the key's leading name and pass, e.g. "unet forward". */
  label: string;
}

/** The model's name a key starts with (tracedCall keys begin "unet…", "vae…", "text…"), and the pass it names. */
const labelOf = (key: string): string => {
  const parts = key.split("|");
  const pass = parts.find((p) => p === "forward" || p === "backward");
  return [/^[a-z_]+/i.exec(parts[0]!)?.[0] ?? parts[0], pass].filter(Boolean).join(" ");
};

/** Sees every run of a compiled graph (src/bench/profile.ts times them): runs `run` and returns what it returns. */
export type GraphRunHook = <T>(label: string, run: () => T) => T;

const runHook = new HookSlot<GraphRunHook>("withGraphRunHook", "a graph run hook");

/** Runs `fn` with `hook` seeing every graph run it makes; the hook is removed when `fn` returns or throws. */
export function withGraphRunHook<T>(hook: GraphRunHook, fn: () => T): T {
  return runHook.with(hook, fn);
}

const CAPACITY = 48;
const compiled = new Map<string, Compiled>();

/** True when traced graphs can run here: the wasm backend with ONNX Runtime ("wasm-ort") is active. */
export const tracedGraphsAvailable = (): boolean => tf.getBackend() === "wasm" && ortKernelsRegistered();

/** The compiled graph cached under `key`, if any (marked most recently used). */
export function cachedTraced(key: string): Compiled | undefined {
  const hit = compiled.get(key);
  if (hit) {
    compiled.delete(key);
    compiled.set(key, hit);
  }
  return hit;
}

/** The compiled graph for `key`, tracing `f` over `declared` on a miss; `options` override the session cache's. */
export function compileTraced(key: string, declared: readonly tf.Tensor[], f: () => tf.Tensor[], options: Partial<OrtSessionOptions> = {}): Compiled {
  const hit = cachedTraced(key);
  if (hit) return hit;
  const traced = traceGraph(declared, f);
  const session = new OrtSession(encodeModel(traced.graph), { ...ortSessions().options, ...options });
  const entry: Compiled = { inputs: traced.graph.inputs, used: traced.used, outputs: traced.outputs, session, label: labelOf(key) };
  compiled.set(key, entry);
  // An evicted session is dropped, not disposed: a recorded gradient may still hold it, and the native session is
  // released when the last reference goes (onnxruntime-node's session object frees it when collected).
  if (compiled.size > CAPACITY) compiled.delete(compiled.keys().next().value as string);
  return entry;
}

/** Disposes the compiled graphs of `key` (it, and keys it starts as `key|…`), ones no recorded gradient can hold. */
export function releaseTraced(key: string): void {
  for (const [k, entry] of compiled) {
    if (k !== key && !k.startsWith(`${key}|`)) continue;
    compiled.delete(k);
    entry.session.dispose();
  }
}

/** Runs a compiled graph on `declared` (same shapes and dtypes as at trace time); the caller owns the results. */
export function runCompiled(compiled: Compiled, declared: readonly tf.Tensor[]): tf.Tensor[] {
  const hook = runHook.current;
  return hook ? hook(compiled.label, () => runGraph(compiled, declared)) : runGraph(compiled, declared);
}

function runGraph({ inputs, used, outputs, session }: Compiled, declared: readonly tf.Tensor[]): tf.Tensor[] {
  const feeds: Record<string, tf.TensorInfo> = {};
  used.forEach((index, k) => {
    const t = declared[index]!;
    const expected = inputs[k]!;
    if (!tf.util.arraysEqual(t.shape, [...expected.shape])) {
      throw new Error(`traced graph input ${index} has shape [${t.shape}] but was traced with [${expected.shape}]`);
    }
    feeds[expected.name] = t;
  });
  const outs = runOnHeap(tf.backend() as BackendWasm, session, feeds, outputs.map((o, i) => ({ name: `out${i}`, ...o })));
  return outs.map((o) => tf.engine().makeTensorFromTensorInfo(o));
}
