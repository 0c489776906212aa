/**
 * `Conv2DBackpropFilter` (the gradient of Conv2D for its filter) as im2col + one matmul inside ORT:
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} xpad[b, oh·s + kh, ow·s + kw, ci] · dy[b, oh, ow, co]
 * The NHWC input is padded and seen as rows of Cin channels; one Gather of whole rows (an index per output position
 * and tap) writes the patches [B·OH·OW, KH·KW·Cin] once, their columns already in the filter's (kh, kw, ci) order, so
 * dW = patchesᵀ · dy ([B·OH·OW, Cout], dy as it comes) is the filter with no transpose and no sum over the batch.
 * On the tiny UNet's shapes at one thread this is 12–25% faster than the grouped one-hot Conv it replaces
 * ([B, Cin·KH·KW, OH·OW] patches, a batched matmul and a sum over the batch: 3.7 → 3.1 ms on 4×32×32×64 → 64).
 * The indices (int64, one per output position and tap) are 2/Cin of the patches' own size.
 */
import * as tf from "@tensorflow/tfjs";
import type { OnnxInitializer, OnnxNode } from "../onnx-model.js";
import { int64 } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { convInfo, convKey } from "./conv2d.js";

/** Row of the padded input [B·HP·WP, Cin] each patch entry reads, in (b, oh, ow, kh, kw) order. */
function patchRows(info: tf.backend_util.Conv2DInfo, paddedHeight: number, paddedWidth: number): number[] {
  const { batchSize, outHeight, outWidth, filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const rows: number[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++) {
        for (let i = 0; i < filterHeight; i++) {
          const row = b * paddedHeight + oh * strideHeight + i * dilationHeight;
          for (let j = 0; j < filterWidth; j++) rows.push(row * paddedWidth + ow * strideWidth + j * dilationWidth);
        }
      }
    }
  }
  return rows;
}

function backpropFilterGraph(info: tf.backend_util.Conv2DInfo, x: tf.TensorInfo, dy: tf.TensorInfo) {
  const { top, bottom, left, right } = info.padInfo;
  const { batchSize: b, inHeight, inWidth, filterHeight: kh, filterWidth: kw, inChannels: cin, outChannels: cout } = info;
  const positions = b * info.outHeight * info.outWidth;
  const padded = top + bottom + left + right > 0;
  const [hp, wp] = [inHeight + top + bottom, inWidth + left + right];
  const initializers: OnnxInitializer[] = [
    int64("rows_shape", [b * hp * wp, cin]),
    int64("rows", patchRows(info, hp, wp)),
    int64("patch_shape", [positions, kh * kw * cin]),
    int64("dy_shape", [positions, cout]),
    int64("dw_shape", info.filterShape),
    ...(padded ? [int64("pads", [0, top, left, 0, 0, bottom, right, 0])] : []),
  ];
  const nodes: OnnxNode[] = [
    ...(padded ? [{ op: "Pad", inputs: ["x0", "pads"], outputs: ["x_pad"] }] : []),
    { op: "Reshape", inputs: [padded ? "x_pad" : "x0", "rows_shape"], outputs: ["x_rows"] },
    { op: "Gather", inputs: ["x_rows", "rows"], outputs: ["taps"], attributes: { axis: { int: 0 } } }, // [B·OH·OW·KH·KW, Cin]
    { op: "Reshape", inputs: ["taps", "patch_shape"], outputs: ["patches"] },
    { op: "Reshape", inputs: ["x1", "dy_shape"], outputs: ["dy_rows"] },
    { op: "Gemm", inputs: ["patches", "dy_rows"], outputs: ["dw_rows"], attributes: { transA: { int: 1 } } }, // [KH·KW·Cin, Cout]
    { op: "Reshape", inputs: ["dw_rows", "dw_shape"], outputs: ["y"] },
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
