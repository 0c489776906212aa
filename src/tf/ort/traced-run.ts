/**
 * Runs traced graphs (trace.ts) in ONNX Runtime on the wasm backend's tensors: the declared inputs are read in place
 * from the wasm heap and the outputs written straight into tensors TF.js owns. Sessions are cached per key apart from
 * the one-kernel sessions (same options), so those cannot evict a whole model's.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { OrtSession, ortTensor, type OrtTensor } from "./binding.js";
import { encodeModel } from "./onnx-model.js";
import { ortSessions } from "./ort-kernel.js";
import { ortKernelsRegistered } from "./register.js";
import { traceGraph, type TracedGraph } from "./trace.js";

interface Compiled {
  traced: TracedGraph;
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

let runHook: GraphRunHook | undefined;

/** Runs `fn` with `hook` seeing every graph run it makes; the hook is removed when `fn` returns or throws. */
export function withGraphRunHook<T>(hook: GraphRunHook, fn: () => T): T {
  if (runHook) throw new Error("withGraphRunHook: a graph run hook is already installed (profiles cannot nest)");
  runHook = hook;
  try {
    return fn();
  } finally {
    runHook = undefined;
  }
}

const CAPACITY = 48;
const compiled = new Map<string, Compiled>();

/** True when traced graphs can run here: the wasm backend with ONNX Runtime ("wasm-ort") is active. */
export const tracedGraphsAvailable = (): boolean => tf.getBackend() === "wasm" && ortKernelsRegistered();

/** The compiled graph for `key`, tracing `f` over `declared` on a miss. */
export function compileTraced(key: string, declared: readonly tf.Tensor[], f: () => tf.Tensor[]): Compiled {
  const hit = compiled.get(key);
  if (hit) {
    compiled.delete(key);
    compiled.set(key, hit);
    return hit;
  }
  const traced = traceGraph(declared, f);
  const session = new OrtSession(encodeModel(traced.graph), ortSessions().options);
  const entry = { traced, session, label: labelOf(key) };
  compiled.set(key, entry);
  if (compiled.size > CAPACITY) {
    const [oldest, evicted] = compiled.entries().next().value as [string, Compiled];
    compiled.delete(oldest);
    evicted.session.dispose();
  }
  return entry;
}

const ORT_TYPE: Record<string, OrtTensor["type"]> = { float32: "float32", int32: "int32", bool: "bool" };

/** Runs a compiled graph on `declared` (same shapes and dtypes as at trace time); the caller owns the results. */
export function runCompiled(compiled: Compiled, declared: readonly tf.Tensor[]): tf.Tensor[] {
  return runHook ? runHook(compiled.label, () => runGraph(compiled, declared)) : runGraph(compiled, declared);
}

function runGraph({ traced, session }: Compiled, declared: readonly tf.Tensor[]): tf.Tensor[] {
  const backend = tf.backend() as BackendWasm;
  // Allocate the outputs first: growing the heap detaches views taken before.
  const outs = traced.outputs.map((o) => backend.makeOutput(o.shape, o.dtype));
  const feeds: Record<string, OrtTensor> = {};
  traced.used.forEach((index, k) => {
    const t = declared[index]!;
    const expected = traced.graph.inputs[k]!;
    if (!tf.util.arraysEqual(t.shape, [...expected.shape])) {
      throw new Error(`traced graph input ${index} has shape [${t.shape}] but was traced with [${expected.shape}]`);
    }
    feeds[expected.name] = ortTensor(backend.typedArrayFromHeap(t) as Float32Array, t.shape, ORT_TYPE[t.dtype]);
  });
  const fetches: Record<string, OrtTensor> = {};
  outs.forEach((o, i) => (fetches[`out${i}`] = ortTensor(backend.typedArrayFromHeap(o) as Float32Array, o.shape, ORT_TYPE[o.dtype])));
  session.run(feeds, fetches);
  return outs.map((o) => tf.engine().makeTensorFromTensorInfo(o));
}

/** Disposes every compiled session (a model's weights changed shape, or to free memory). */
export function clearCompiled(): void {
  for (const { session } of compiled.values()) session.dispose();
  compiled.clear();
}
