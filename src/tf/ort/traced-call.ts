/**
 * A model call run as one ONNX Runtime graph instead of hundreds of TF.js kernels (issue 18): `tracedCall` traces
 * `f` once per key (trace.ts) and from then on runs the graph. When a gradient is being recorded, the call is one
 * `tf.customGrad` op whose gradient is a second traced graph: `f`'s forward and TF.js's own backward pass for the
 * `wrt` inputs, recomputed inside ORT from the saved inputs (so, like a checkpointed segment, nothing but the inputs
 * is held between the passes). Off the wasm backend, or with `ALIGNPROP_ORT_GRAPHS=0`, `f` runs as TF.js ops.
 *
 * The key must name everything the trace bakes in (see trace.ts): the model instance and any non-tensor state
 * (a LoRA scale, merged weights). Input shapes and dtypes are added to it here.
 */
import * as tf from "@tensorflow/tfjs";
import { gradients, type Gradients } from "../gradients.js";
import { tracing } from "./trace.js";
import { cachedTraced, compileTraced, runCompiled, tracedGraphsAvailable } from "./traced-run.js";
import { envSwitch } from "../../util/env-switch.js";

export { releaseTraced } from "./traced-run.js";

/** `ALIGNPROP_ORT_GRAPHS`: "0" runs model calls as TF.js ops (the reference path); anything else or unset traces. */
export const tracedGraphsEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  envSwitch(env, "ALIGNPROP_ORT_GRAPHS", { off: "TF.js ops", on: "ONNX Runtime graphs" });

/** True when model calls run as traced ORT graphs here (the wasm backend, not switched off). */
export const tracedGraphsActive = (): boolean => tracedGraphsAvailable() && tracedGraphsEnabled();

const signature = (inputs: readonly tf.Tensor[]) => inputs.map((t) => `${t.dtype}[${t.shape}]`).join(",");

/** A stable id per object (a model instance), for cache keys. */
const ids = new WeakMap<object, number>();
let nextId = 0;
export function instanceId(o: object): number {
  let id = ids.get(o);
  if (id === undefined) ids.set(o, (id = nextId++));
  return id;
}

/**
 * f(inputs) as one ORT graph, differentiable for the inputs at the indices in `wrt` and for every trainable
 * `tf.Variable` among the inputs (the rest are constants to backpropagation). `f` must be a pure function of
 * `inputs` and of what `key` names. The key starts with the model's name ("unet…"), which profiles show.
 */
export function tracedCall<T extends tf.Tensor>(key: string, inputs: readonly tf.Tensor[], wrt: readonly number[], f: () => T): T {
  // Inside another trace the call's kernels are that graph's: a graph run here would be a constant to it.
  if (!tracedGraphsActive() || tracing()) return f();
  const sig = signature(inputs);
  const forward = compileTraced(`${key}|forward|${sig}`, inputs, () => [f()]);
  if (!tf.engine().isTapeOn()) return runCompiled(forward, inputs)[0] as T;

  // Differentiable: the inputs asked for and every trainable variable among the inputs.
  const indices = [...new Set([...wrt, ...inputs.flatMap((t, i) => (t instanceof tf.Variable && t.trainable ? [i] : []))])];
  if (indices.length === 0) return runCompiled(forward, inputs)[0] as T;
  const differentiable = indices.map((i) => inputs[i]!);
  const backwardKey = `${key}|backward|${indices}|${sig}`;
  const backward = cachedTraced(backwardKey) ?? traceBackward(backwardKey, inputs, differentiable, forward.outputs[0]!.shape, f);
  const op = tf.customGrad((...args: unknown[]) => {
    const save = args.at(-1) as tf.GradSaveFunc;
    save([...inputs]);
    return {
      value: runCompiled(forward, inputs)[0] as T,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => runCompiled(backward, [...saved, dy as tf.Tensor]),
    };
  });
  return op(...differentiable) as T;
}

/** The gradient graph: inputs and dy (of the output's shape) → d(output·dy)/d(each differentiable input). */
function traceBackward(key: string, inputs: readonly tf.Tensor[], differentiable: tf.Tensor[], outShape: number[], f: () => tf.Tensor) {
  const dy = tf.zeros(outShape); // any values: the trace records the computation, not the numbers
  try {
    return compileTraced(key, [...inputs, dy], () => {
      const { grads } = gradients(f, differentiable, dy);
      return grads.map((g, i) => g ?? tf.zerosLike(differentiable[i]!));
    });
  } finally {
    dy.dispose();
  }
}

/**
 * A loss and its gradients for `xs` as one ORT graph: forward pass, loss and backward pass in one run, so ORT keeps
 * what the backward pass needs from the forward pass and frees it as it goes. A model call's own gradient graph
 * (tracedCall) must recompute its forward pass instead: a graph's outputs are copied out by onnxruntime-node, so
 * handing a forward graph's activations to a backward graph costs more than recomputing them. Use it where one
 * function owns a whole training step. `loss` must be a pure function of `inputs`, `xs` and what `key` names (see
 * tracedCall). Off wasm-ort, under an enclosing gradient, or inside a trace: `gradients(loss, xs)` as TF.js ops.
 * The step's graphs stay cached (with their arena) until `releaseTraced(key)`.
 */
export function tracedGradients(key: string, inputs: readonly tf.Tensor[], xs: readonly tf.Tensor[], loss: () => tf.Scalar): Gradients {
  if (!tracedGraphsActive() || tracing() || tf.engine().isTapeOn()) return gradients(loss, xs);
  const declared = [...inputs, ...xs];
  let reached: boolean[] = [];
  const step = compileTraced(
    `${key}|step|${signature(declared)}`,
    declared,
    () => {
      const { value, grads } = gradients(loss, xs);
      reached = grads.map((g) => g !== undefined);
      return [value, ...grads.map((g, i) => g ?? tf.zerosLike(xs[i]!))];
    },
    // ORT's memory arena keeps the step's buffers from run to run instead of a malloc, page faults and a free for
    // each of its thousands of nodes: the tiny-UNet step 3–6% faster (261–270 → 250–254 ms at one thread), its peak
    // RSS no higher.
    { enableCpuMemArena: true },
  );
  if (reached.length > 0) reachedBy.set(step, reached);
  const [value, ...grads] = runCompiled(step, declared);
  // An x the loss does not depend on has no gradient, as in gradients(): the graph's zeros for it are let go.
  const mask = reachedBy.get(step)!;
  return { value: value!, grads: grads.map((g, i) => (mask[i] ? g : (g!.dispose(), undefined))) };
}

/** Which xs each compiled step reaches (known when it is traced). */
const reachedBy = new WeakMap<object, boolean[]>();
