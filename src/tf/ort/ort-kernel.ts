/**
 * What every ORT kernel on the wasm backend shares: the session cache, running a cached graph on views of the wasm
 * heap (inputs read in place, the output written straight into the tensor TF.js gets back), and handing the cases
 * ORT does not take (non-float32 dtypes, empty tensors, unsupported attributes) to the kernel it replaced.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { ortTensor, type OrtSession, type OrtTensor } from "./binding.js";
import { onnxDataType, type OnnxGraph } from "./onnx-model.js";
import { SessionCache } from "./session-cache.js";

type Inputs = tf.NamedTensorInfoMap;
type Attrs = tf.NamedAttrMap;

/**
 * One kernel call as an ONNX graph: `graph()` maps inputs x0, x1, … (the `feeds`, in order) to output y of
 * `outShape`. `key` determines the graph (op, attributes and every input shape), so sessions can be cached by it.
 */
export interface KernelGraph {
  key: string;
  graph: () => OnnxGraph;
  feeds: tf.TensorInfo[];
  outShape: number[];
}

/**
 * A kernel's translation to ONNX, or undefined when ORT should not take this call (the kernel it replaced does).
 * The one owner of each kernel's ONNX form: the per-kernel sessions and the traced whole-model graphs (trace.ts) use it.
 */
export type KernelGraphFunc = (inputs: Inputs, attrs: Attrs, constant?: (t: tf.TensorInfo) => boolean) => KernelGraph | undefined;

let sessions: SessionCache | undefined;

/** The process-wide session cache (created on first use, reading `ALIGNPROP_ORT_THREADS` then). */
export function ortSessions(): SessionCache {
  sessions ??= new SessionCache();
  return sessions;
}

/** Replaces the session cache (disposing the old one's sessions), e.g. to change the thread count. */
export function resetOrtSessions(cache?: SessionCache): void {
  sessions?.clear();
  sessions = cache;
}

/** The wasm kernels the ORT ones replaced, by kernel name; filled by registerOrtKernels. */
export const replacedKernels = new Map<string, tf.KernelConfig>();

/** An ORT kernel: its name and its translation. */
export interface OrtKernel {
  kernelName: string;
  toGraph: KernelGraphFunc;
}

/** A KernelConfig for the wasm backend that runs the kernel's graph in ORT, falling back to the kernel it replaced. */
export function ortKernelConfig({ kernelName, toGraph }: OrtKernel): tf.KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const spec = toGraph(inputs, attrs ?? {});
      if (spec) return runOrtGraph(backend as BackendWasm, spec.key, spec.graph, spec.feeds, spec.outShape);
      const replaced = replacedKernels.get(kernelName);
      if (!replaced) {
        const dtypes = Object.values(inputs).map((t) => t?.dtype);
        const got = dtypes.join(", ");
        throw new Error(`${kernelName}: ONNX Runtime takes float32 only (got ${got}) and wasm has no kernel to fall back to`);
      }
      return replaced.kernelFunc({ inputs, attrs, backend });
    },
  };
}

/** True when ORT can take these tensors: all float32 and none empty. */
export const ortCanTake = (...tensors: (tf.TensorInfo | undefined)[]): boolean =>
  tensors.every((t) => t === undefined || (t.dtype === "float32" && tf.util.sizeFromShape(t.shape) > 0));

/**
 * Runs the graph cached under `key` (built by `graph` on a miss) with `inputs` fed as x0, x1, … and output y of
 * `outShape`, allocated on the wasm heap. The key must determine the graph: op, attributes and every input shape.
 */
export function runOrtGraph(
  backend: BackendWasm,
  key: string,
  graph: () => OnnxGraph,
  inputs: readonly tf.TensorInfo[],
  outShape: number[],
): tf.TensorInfo {
  const session = ortSessions().get(key, graph);
  const feeds = Object.fromEntries(inputs.map((t, i) => [`x${i}`, t]));
  return runOnHeap(backend, session, feeds, [{ name: "y", shape: outShape, dtype: "float32" }])[0]!;
}

/**
 * Runs `session` on wasm-heap tensors in place: each feed is read where it lies, and each output is allocated on the
 * heap first (growing the heap detaches views taken before) and written by ORT straight into it. Returns the outputs.
 */
export function runOnHeap(
  backend: BackendWasm,
  session: OrtSession,
  feeds: Record<string, tf.TensorInfo>,
  outputs: readonly { name: string; shape: readonly number[]; dtype: tf.DataType }[],
): tf.TensorInfo[] {
  const outs = outputs.map((o) => backend.makeOutput([...o.shape], o.dtype));
  const view = (t: tf.TensorInfo): OrtTensor =>
    ortTensor(backend.typedArrayFromHeap(t) as Float32Array | Int32Array | Uint8Array, t.shape, onnxDataType(t.dtype) as OrtTensor["type"]);
  const fetches = Object.fromEntries(outputs.map((o, i) => [o.name, view(outs[i]!)]));
  session.run(Object.fromEntries(Object.entries(feeds).map(([name, t]) => [name, view(t)])), fetches);
  return outs;
}

/** The cache key part for a list of tensors: their shapes. */
export const shapesKey = (...tensors: (tf.TensorInfo | undefined)[]): string =>
  tensors.map((t) => (t ? t.shape.join("x") : "-")).join(",");
