/**
 * Traces a TF.js computation into one ONNX graph. `traceGraph` runs the computation once for real on the active
 * backend while recording every kernel the engine dispatches (forward ops, and a gradient pass's ops when the
 * computation takes gradients), and translates each to ONNX nodes (trace-ops.ts). The model code stays the one
 * definition of the model: the graph is what TF.js ran, kernel by kernel.
 *
 * Values are identified by their data and shape: TF.js's Reshape (and ExpandDims, Squeeze, …) return a view of the
 * input's data with another shape, so (dataId, shape) names one value, and a known dataId seen with a new shape is a
 * Reshape of it. A tensor the trace sees that neither a declared input nor a recorded kernel made (a `tf.scalar`,
 * a weight not declared, a constant table) is baked into the graph as an initializer with its values at trace time:
 * anything that changes between calls must be a declared input, or part of the cache key.
 *
 * A kernel dispatched again on the same values with the same attributes (a checkpointed block's forward, re-run for
 * its gradient) reuses the first dispatch's nodes, small constants are shared by value, and nodes that no result
 * needs are dropped: the graph is the computation, not the order TF.js happened to run it in.
 */
import * as tf from "@tensorflow/tfjs";
import { onnxDataType, type OnnxDataType, type OnnxGraph, type OnnxInitializer, type OnnxNode, type OnnxValue } from "./onnx-model.js";
import { translateKernel } from "./trace-ops.js";

/** Constants up to this many elements are shared by value (scalars, shapes); larger ones are weights, named by data. */
const SMALL_CONSTANT = 16;

/** What a kernel translation sees and emits through. */
export interface TraceEmitter {
  /** The ONNX name of a kernel input (recording it as a constant when the trace has not seen it). */
  name(t: tf.TensorInfo): string;
  /** True when `t` is baked into the graph as a constant (computed from no declared input). */
  isConstant(t: tf.TensorInfo): boolean;
  node(op: string, inputs: readonly string[], outputs: readonly string[], attributes?: OnnxNode["attributes"]): void;
  /** A constant initializer; returns its name. */
  constant(dataType: OnnxDataType, dims: readonly number[], values: ArrayLike<number>): string;
  /** A fresh internal value name. */
  fresh(hint: string): string;
  /** Adds another graph's nodes, renaming its inputs x0… to `inputs` and its output y to `output`. */
  inline(graph: OnnxGraph, inputs: readonly string[], output: string): void;
}

/** A graph traced from a computation, with the declared inputs it reads. */
export interface TracedGraph {
  graph: OnnxGraph;
  /** Indices into the declared inputs of the graph's inputs in0, in1, … that the graph reads, in graph order. */
  used: number[];
  /** Shape and dtype of each output out0, out1, …. */
  outputs: { shape: number[]; dtype: tf.DataType }[];
}

class Recorder implements TraceEmitter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxInitializer[] = [];
  private readonly values = new Map<object, Map<string, string>>();
  private readonly inputNames = new Map<string, number>();
  /** Data computed from the declared inputs; everything else the trace sees is a constant. */
  private readonly dynamic = new Set<object>();
  /** Initializer names of small constants by dtype, shape and values. */
  private readonly smallConstants = new Map<string, string>();
  /** Output names of each recorded kernel call by kernel, input names and attributes. */
  private readonly calls = new Map<string, string[]>();
  private count = 0;

  constructor(private readonly declared: readonly tf.Tensor[]) {
    declared.forEach((t, i) => {
      if (!this.lookup(t)) this.define(t, `in${i}`);
      this.dynamic.add(t.dataId);
    });
  }

  fresh(hint: string): string {
    return `${hint}_${this.count++}`;
  }

  isConstant(t: tf.TensorInfo): boolean {
    return !this.dynamic.has(t.dataId);
  }

  private lookup(t: tf.TensorInfo): string | undefined {
    return this.values.get(t.dataId)?.get(t.shape.join("x"));
  }

  define(t: tf.TensorInfo, name: string): void {
    let byShape = this.values.get(t.dataId);
    if (!byShape) this.values.set(t.dataId, (byShape = new Map()));
    byShape.set(t.shape.join("x"), name);
    if (name.startsWith("in")) this.inputNames.set(name, Number(name.slice(2)));
  }

  name(t: tf.TensorInfo): string {
    const known = this.lookup(t);
    if (known) return known;
    const views = this.values.get(t.dataId);
    if (views) {
      // Another view of data the trace knows: a reshape.
      const [source] = views.values();
      const call = `view(${source})[${t.shape}]`;
      let name = this.calls.get(call)?.[0];
      if (!name) {
        name = this.fresh("view");
        this.node("Reshape", [source!, this.constant("int64", [t.shape.length], t.shape)], [name]);
        this.calls.set(call, [name]);
      }
      this.define(t, name);
      return name;
    }
    const raw = tf.engine().readSync(t.dataId) as ArrayLike<number>;
    const values = t.dtype === "bool" ? Array.from(raw, Number) : raw;
    // A small constant made anew on each call (a scalar operand) is one initializer, so repeated kernels match.
    const small = values.length <= SMALL_CONSTANT ? `${t.dtype}[${t.shape}]${Array.from(values).join(",")}` : undefined;
    const name = (small && this.smallConstants.get(small)) ?? this.constant(onnxDataType(t.dtype), t.shape, values);
    if (small) this.smallConstants.set(small, name);
    this.define(t, name);
    return name;
  }

  node(op: string, inputs: readonly string[], outputs: readonly string[], attributes?: OnnxNode["attributes"]): void {
    this.nodes.push({ op, inputs, outputs, ...(attributes ? { attributes } : {}) });
  }

  constant(dataType: OnnxDataType, dims: readonly number[], values: ArrayLike<number>): string {
    const name = this.fresh("const");
    this.initializers.push({ name, dims, dataType, values });
    return name;
  }

  inline(graph: OnnxGraph, inputs: readonly string[], output: string): void {
    const prefix = this.fresh("k");
    const rename = (n: string) => {
      if (n === "y") return output;
      const m = /^x(\d+)$/.exec(n);
      if (m) return inputs[Number(m[1])]!;
      return `${prefix}_${n}`;
    };
    for (const init of graph.initializers ?? []) this.initializers.push({ ...init, name: rename(init.name) });
    for (const node of graph.nodes) this.nodes.push({ ...node, inputs: node.inputs.map(rename), outputs: node.outputs.map(rename) });
  }

  /**
   * A copy the engine makes inside a kernel call (the tape's saved inputs and outputs are `Identity` clones made
   * while the kernel runs): the same value under a new dataId.
   */
  recordCopy(input: tf.TensorInfo, output: tf.TensorInfo): void {
    if (!this.dynamic.has(input.dataId)) return;
    this.dynamic.add(output.dataId);
    this.define(output, this.name(input));
  }

  /**
   * Records one dispatched kernel: one reading only constants is folded (its outputs become constants when used);
   * outputs that are views of an input alias it; the rest are translated.
   */
  record(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap, outputs: tf.TensorInfo[]): void {
    const ins = Object.values(inputs).filter((t): t is tf.TensorInfo => t != null);
    if (!ins.some((t) => this.dynamic.has(t.dataId))) return;
    outputs.forEach((o) => this.dynamic.add(o.dataId));
    const viewOf = (o: tf.TensorInfo) => ins.find((i) => i.dataId === o.dataId);
    if (outputs.every(viewOf)) {
      outputs.forEach((o) => this.name(o)); // an alias, or a Reshape of its input's data
      return;
    }
    if (kernelName === tf.Identity) {
      this.define(outputs[0]!, this.name(inputs.x!)); // a copy: the same value
      return;
    }
    // The same kernel on the same values (a checkpointed call's forward, re-run for its gradient) is the same value.
    const inputNames = Object.entries(inputs).map(([k, t]) => `${k}=${t ? this.name(t) : "-"}`);
    const call = `${kernelName}(${inputNames})${JSON.stringify(attrs)}`;
    const earlier = this.calls.get(call);
    const names = earlier ?? outputs.map(() => this.fresh(kernelName));
    if (!earlier) {
      translateKernel(this, kernelName, inputs, attrs, outputs, names);
      this.calls.set(call, names);
    }
    outputs.forEach((o, i) => this.define(o, names[i]!));
  }

  finish(results: readonly tf.Tensor[]): TracedGraph {
    const outputs: OnnxValue[] = results.map((t, i) => {
      const name = `out${i}`;
      this.node("Identity", [this.name(t)], [name]);
      return { name, shape: t.shape, dtype: onnxDataType(t.dtype) };
    });
    // Only the nodes the outputs need (a gradient nobody asked for is computed in TF.js, not in the graph).
    const needed = new Set(outputs.map((o) => o.name));
    const nodes: OnnxNode[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      if (!node.outputs.some((o) => needed.has(o))) continue;
      node.inputs.forEach((n) => needed.add(n));
      nodes.push(node);
    }
    nodes.reverse();
    const initializers = this.initializers.filter((init) => needed.has(init.name));
    const used = [...this.inputNames].filter(([name]) => needed.has(name)).sort((a, b) => a[1] - b[1]);
    const inputs: OnnxValue[] = used.map(([name, i]) => ({
      name,
      shape: this.declared[i]!.shape,
      dtype: onnxDataType(this.declared[i]!.dtype),
    }));
    return {
      graph: { inputs, outputs, nodes, initializers },
      used: used.map(([, i]) => i),
      outputs: results.map((t) => ({ shape: t.shape, dtype: t.dtype })),
    };
  }
}

type EngineState = { activeTape: unknown; gradientDepth: number; kernelDepth: number };

/**
 * Runs `f` as if no gradient were being recorded around it: its ops stay off any enclosing tape, and a gradient it
 * takes itself is a pass of its own (TF.js shares one tape across nested `gradients` calls otherwise).
 */
export function offEnclosingTape<T>(f: () => T): T {
  const state = tf.engine().state as unknown as EngineState;
  const saved = { activeTape: state.activeTape, gradientDepth: state.gradientDepth, kernelDepth: state.kernelDepth };
  Object.assign(state, { activeTape: null, gradientDepth: 0, kernelDepth: 0 });
  try {
    return f();
  } finally {
    Object.assign(state, saved);
  }
}

let tracingDepth = 0;

/** True while `traceGraph` is recording (model code may then trade memory for recomputation at no cost: see
 * checkpointCall in src/tf/checkpoint.ts). */
export const tracing = (): boolean => tracingDepth > 0;

/**
 * Runs `f` once on the active backend, recording the kernels it dispatches, and returns the graph computing its
 * results from `declared` (graph inputs in0, in1, …; outputs out0, out1, …). `f` runs off any enclosing tape; its
 * results are disposed. Declared inputs that share data at trace time (one tensor given twice) become one graph
 * input, the first: callers give distinct tensors, or the same one every time.
 */
export function traceGraph(declared: readonly tf.Tensor[], f: () => tf.Tensor[]): TracedGraph {
  const engine = tf.engine();
  const recorder = new Recorder(declared);
  const runKernel = engine.runKernel;
  let depth = 0;
  // Copies made inside the running kernel call, of its inputs or its outputs: recorded once the call is.
  let copies: [tf.TensorInfo, tf.TensorInfo][] = [];
  engine.runKernel = function (kernelName: string, inputs: tf.NamedTensorMap, attrs?: tf.NamedAttrMap) {
    depth++;
    try {
      const out = runKernel.call(engine, kernelName, inputs, attrs) as tf.Tensor | tf.Tensor[];
      if (depth === 1) {
        recorder.record(kernelName, inputs, attrs ?? {}, Array.isArray(out) ? out : [out]);
        for (const [input, copy] of copies) recorder.recordCopy(input, copy);
        copies = [];
      } else if (kernelName === tf.Identity) copies.push([inputs.x!, out as tf.Tensor]);
      return out;
    } finally {
      depth--;
    }
  } as typeof engine.runKernel;
  tracingDepth++;
  try {
    let traced: TracedGraph | undefined;
    offEnclosingTape(() => tf.tidy(() => void (traced = recorder.finish(f()))));
    return traced!;
  } finally {
    tracingDepth--;
    engine.runKernel = runKernel;
  }
}
