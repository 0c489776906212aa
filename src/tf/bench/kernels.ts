/** Times conv forward, its input and filter gradients, and a matmul on the current TF.js backend. */
import * as tf from "@tensorflow/tfjs";
import { convFlops, matMulFlops, type ConvShape, type MatMulShape } from "./shapes.js";
import { gflops, time, type Timing } from "./timing.js";

export interface KernelTiming extends Timing {
  gflops: number;
}

export interface KernelBench {
  conv_fwd: KernelTiming;
  conv_bwd_input: KernelTiming;
  conv_bwd_filter: KernelTiming;
  matmul: KernelTiming;
}

function timeKernel(flops: number, repeats: number, run: () => tf.Tensor): KernelTiming {
  const timing = time(() => tf.tidy(() => void run()), repeats);
  return { ...timing, gflops: gflops(flops, timing.ms) };
}

export function benchKernels(conv: ConvShape, matmul: MatMulShape, repeats: number): KernelBench {
  const convAttrs = { strides: conv.stride, pad: conv.pad, dataFormat: "NHWC" };
  const x = tf.randomNormal(conv.x) as tf.Tensor4D; // [B, H, W, Cin]
  const filter = tf.randomNormal(conv.filter) as tf.Tensor4D; // [KH, KW, Cin, Cout]
  const y = tf.conv2d(x, filter, conv.stride, conv.pad); // [B, OH, OW, Cout]
  const dy = tf.randomNormal(y.shape);
  const a = tf.randomNormal([matmul.m, matmul.k]);
  const b = tf.randomNormal([matmul.k, matmul.n]);
  const flops = convFlops(conv);
  const result: KernelBench = {
    conv_fwd: timeKernel(flops, repeats, () => tf.conv2d(x, filter, conv.stride, conv.pad)),
    conv_bwd_input: timeKernel(flops, repeats, () =>
      tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, { ...convAttrs, inputShape: conv.x } as unknown as tf.NamedAttrMap) as tf.Tensor),
    conv_bwd_filter: timeKernel(flops, repeats, () =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...convAttrs, filterShape: conv.filter } as unknown as tf.NamedAttrMap) as tf.Tensor),
    matmul: timeKernel(matMulFlops(matmul), repeats, () => tf.matMul(a, b)),
  };
  tf.dispose([x, filter, y, dy, a, b]);
  return result;
}
