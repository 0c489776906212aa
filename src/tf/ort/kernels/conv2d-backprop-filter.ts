/**
 * `Conv2DBackpropFilter` (the gradient of Conv2D for its filter) as im2col + one batched matmul inside ORT:
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} xpad[b, oh·s + kh, ow·s + kw, ci] · dy[b, oh, ow, co]
 * The patches come from one grouped Conv (group = Cin) of the NCHW input with one-hot KH×KW filters: output channel
 * ci·KH·KW + t is tap t of input channel ci, padding and stride as the conv's, so [B, Cin·KH·KW, OH·OW] is written
 * once. dy is used as it comes (NHWC is [B, OH·OW, Cout]): dW = Σ_b patches_b · dy_b → [Cin, KH, KW, Cout], then the
 * small transpose to the filter's [KH, KW, Cin, Cout]. On the bench shape (4×32×32×64, 3×3) this is 2.0–2.2 ms
 * against 2.6–2.8 ms for KH·KW strided slices concatenated (every patch written twice).
 */
import * as tf from "@tensorflow/tfjs";
import type { OnnxInitializer, OnnxNode } from "../onnx-model.js";
import { int64, NHWC_TO_NCHW, transpose } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { convInfo, convKey } from "./conv2d.js";

function backpropFilterGraph(info: tf.backend_util.Conv2DInfo, x: tf.TensorInfo, dy: tf.TensorInfo) {
  const { top, bottom, left, right } = info.padInfo;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const cin = info.inChannels;
  const taps = kh * kw;
  const b = info.batchSize;
  // One-hot depthwise filters: output channel ci·taps + t of group ci copies tap t of input channel ci.
  const onehot = new Float32Array(cin * taps * taps);
  for (let c = 0; c < cin; c++) for (let t = 0; t < taps; t++) onehot[(c * taps + t) * taps + t] = 1;
  const initializers: OnnxInitializer[] = [
    { name: "onehot", dims: [cin * taps, 1, kh, kw], dataType: "float32", values: onehot },
    int64("patch_shape", [b, cin * taps, oh * ow]),
    int64("dy_shape", [b, oh * ow, info.outChannels]),
    int64("dw_shape", [cin, kh, kw, info.outChannels]),
    int64("axis0", [0]),
  ];
  const nodes: OnnxNode[] = [
    transpose("x0", "x_nchw", NHWC_TO_NCHW),
    {
      op: "Conv",
      inputs: ["x_nchw", "onehot"],
      outputs: ["patches"], // [B, Cin·KH·KW, OH, OW]
      attributes: {
        group: { int: cin },
        kernel_shape: { ints: [kh, kw] },
        pads: { ints: [top, left, bottom, right] },
        strides: { ints: [sh, sw] },
      },
    },
    { op: "Reshape", inputs: ["patches", "patch_shape"], outputs: ["patch_rows"] },
    { op: "Reshape", inputs: ["x1", "dy_shape"], outputs: ["dy_rows"] },
    { op: "MatMul", inputs: ["patch_rows", "dy_rows"], outputs: ["dw_b"] }, // [B, Cin·KH·KW, Cout]
    { op: "ReduceSum", inputs: ["dw_b", "axis0"], outputs: ["dw_rows"], attributes: { keepdims: { int: 0 } } },
    { op: "Reshape", inputs: ["dw_rows", "dw_shape"], outputs: ["dw_cio"] },
    transpose("dw_cio", "y", [1, 2, 0, 3]), // [Cin, KH, KW, Cout] → [KH, KW, Cin, Cout]
  ];
  return {
    inputs: [{ name: "x0", shape: x.shape }, { name: "x1", shape: dy.shape }],
    outputs: [{ name: "y", shape: info.filterShape }],
    nodes,
    initializers,
  };
}

export const conv2DBackpropFilter: OrtKernel = { kernelName: tf.Conv2DBackpropFilter, toGraph: (inputs, attrs) => {
  const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  const info = ortCanTake(x, dy) ? convInfo(x.shape, a.filterShape, a) : undefined;
  if (!info) return undefined;
  const key = `Conv2DBackpropFilter|${convKey(info)}|${shapesKey(x, dy)}`;
  return { key, graph: () => backpropFilterGraph(info, x, dy), feeds: [x, dy], outShape: [...info.filterShape] };
} };
