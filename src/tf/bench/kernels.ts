/**
 * Times conv forward, its input and filter gradients, and a matmul on the current TF.js backend, in the forms the
 * wasm-ort engine runs them: as one kernel dispatched by TF.js (a one-operator ORT session with its NHWC transposes:
 * a call outside a model), and — where traced graphs run (src/tf/ort/traced-run.ts) — as that kernel traced into an
 * ONNX graph the way model calls run now, inputs read in place from the wasm heap: with every operand an input (a
 * trainable weight), and with the weight baked in as a constant (a frozen weight: ORT folds its layout transpose and
 * prepacks it).
 */
import * as tf from "@tensorflow/tfjs";
import { compileTraced, runCompiled, tracedGraphsAvailable } from "../ort/traced-run.js";
import { convFlops, matMulFlops, type ConvShape, type MatMulShape } from "./shapes.js";
import { gflops, time, type Timing } from "./timing.js";

export interface KernelTiming extends Timing {
  gflops: number;
}

export interface KernelSet {
  conv_fwd: KernelTiming;
  conv_bwd_input: KernelTiming;
  conv_bwd_filter: KernelTiming;
  matmul: KernelTiming;
}

export type KernelName = keyof KernelSet;

export interface KernelBench extends KernelSet {
  /** Each kernel as a traced graph with every operand an input (a trainable weight); absent where graphs do not run. */
  graph?: KernelSet;
  /** Conv forward, its input gradient and the matmul as traced graphs with the weight baked in (a frozen weight). */
  graph_frozen_weight?: Omit<KernelSet, "conv_bwd_filter">;
}

function timeKernel(flops: number, repeats: number, run: () => tf.Tensor | tf.Tensor[]): KernelTiming {
  const timing = time(() => tf.tidy(() => void run()), repeats);
  return { ...timing, gflops: gflops(flops, timing.ms) };
}

/** `f` traced once over `declared` (what is not declared is baked in), then run as its graph. */
function asGraph(key: string, declared: tf.Tensor[], f: () => tf.Tensor): () => tf.Tensor[] {
  const compiled = compileTraced(`bench|${key}`, declared, () => [f()]);
  return () => runCompiled(compiled, declared);
}

export function benchKernels(conv: ConvShape, matmul: MatMulShape, repeats: number): KernelBench {
  const convAttrs = { strides: conv.stride, pad: conv.pad, dataFormat: "NHWC" };
  const x = tf.randomNormal(conv.x) as tf.Tensor4D; // [B, H, W, Cin]
  const filter = tf.randomNormal(conv.filter) as tf.Tensor4D; // [KH, KW, Cin, Cout]
  const y = tf.conv2d(x, filter, conv.stride, conv.pad); // [B, OH, OW, Cout]
  const dy = tf.randomNormal(y.shape);
  const a = tf.randomNormal([matmul.m, matmul.k]);
  const b = tf.randomNormal([matmul.k, matmul.n]);
  const convWork: Record<Exclude<KernelName, "matmul">, () => tf.Tensor> = {
    conv_fwd: () => tf.conv2d(x, filter, conv.stride, conv.pad),
    conv_bwd_input: () =>
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, { ...convAttrs, inputShape: conv.x } as unknown as tf.NamedAttrMap) as tf.Tensor,
    conv_bwd_filter: () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...convAttrs, filterShape: conv.filter } as unknown as tf.NamedAttrMap) as tf.Tensor,
  };
  const matmulWork = () => tf.matMul(a, b);
  const flops = convFlops(conv);
  const mmFlops = matMulFlops(matmul);
  const set = (work: Record<KernelName, () => tf.Tensor | tf.Tensor[]>): KernelSet => ({
    conv_fwd: timeKernel(flops, repeats, work.conv_fwd),
    conv_bwd_input: timeKernel(flops, repeats, work.conv_bwd_input),
    conv_bwd_filter: timeKernel(flops, repeats, work.conv_bwd_filter),
    matmul: timeKernel(mmFlops, repeats, work.matmul),
  });
  const result: KernelBench = set({ ...convWork, matmul: matmulWork });
  if (tracedGraphsAvailable()) {
    result.graph = set({
      conv_fwd: asGraph("conv_fwd", [x, filter], convWork.conv_fwd),
      conv_bwd_input: asGraph("conv_bwd_input", [dy, filter], convWork.conv_bwd_input),
      conv_bwd_filter: asGraph("conv_bwd_filter", [x, dy], convWork.conv_bwd_filter),
      matmul: asGraph("matmul", [a, b], matmulWork),
    });
    result.graph_frozen_weight = {
      conv_fwd: timeKernel(flops, repeats, asGraph("conv_fwd_frozen", [x], convWork.conv_fwd)),
      conv_bwd_input: timeKernel(flops, repeats, asGraph("conv_bwd_input_frozen", [dy], convWork.conv_bwd_input)),
      matmul: timeKernel(mmFlops, repeats, asGraph("matmul_frozen", [a], matmulWork)),
    };
  }
  tf.dispose([x, filter, y, dy, a, b]);
  return result;
}
