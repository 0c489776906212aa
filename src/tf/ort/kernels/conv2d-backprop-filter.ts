/**
 * `Conv2DBackpropFilter` (the gradient of Conv2D for its filter) as im2col + one matmul inside ORT:
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} xpad[b, oh·s + kh, ow·s + kw, ci] · dy[b, oh, ow, co]
 * The padded input, channels first ([Cin, B, H, W]: one small transpose), is cut into KH·KW strided slices
 * [Cin, B, OH, OW] (one per filter tap), concatenated on the first axis into patchesᵀ [KH·KW·Cin, B·OH·OW] whose row
 * order is the filter's (kh, kw, ci), and dW = patchesᵀ · dy [B·OH·OW, Cout] → [KH·KW·Cin, Cout] → [KH, KW, Cin, Cout].
 * Concatenating whole channel planes copies large blocks, and the matmul needs no transpose: about 1.2× as fast on
 * the bench shape as patches [B·OH·OW, KH·KW·Cin] concatenated on the channel axis (copies of Cin floats) and
 * transposed.
 */
import * as tf from "@tensorflow/tfjs";
import type { OnnxInitializer, OnnxNode } from "../onnx-model.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { convInfo, convKey } from "./conv2d.js";

const int64 = (name: string, values: readonly number[]): OnnxInitializer => ({
  name,
  dims: [values.length],
  dataType: "int64",
  values,
});

function backpropFilterGraph(info: tf.backend_util.Conv2DInfo, x: tf.TensorInfo, dy: tf.TensorInfo) {
  const { top, bottom, left, right } = info.padInfo;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const rows = info.batchSize * oh * ow;
  const taps = kh * kw * info.inChannels;
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [
    int64("patch_shape", [taps, rows]),
    int64("dy_shape", [rows, info.outChannels]),
    int64("filter_shape", info.filterShape),
    int64("slice_axes", [2, 3]),
    int64("slice_steps", [sh, sw]),
  ];
  const channelsFirst = "x_cbhw"; // [Cin, B, H, W]
  nodes.push({ op: "Transpose", inputs: ["x0"], outputs: [channelsFirst], attributes: { perm: { ints: [3, 0, 1, 2] } } });
  let padded = channelsFirst;
  if (top || bottom || left || right) {
    initializers.push(int64("pads", [0, 0, top, left, 0, 0, bottom, right]));
    nodes.push({ op: "Pad", inputs: [channelsFirst, "pads"], outputs: [(padded = "x_pad")] });
  }
  const slices: string[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const at = `${i}_${j}`;
      initializers.push(int64(`start_${at}`, [i, j]), int64(`end_${at}`, [i + (oh - 1) * sh + 1, j + (ow - 1) * sw + 1]));
      nodes.push({
        op: "Slice",
        inputs: [padded, `start_${at}`, `end_${at}`, "slice_axes", "slice_steps"],
        outputs: [`tap_${at}`],
      });
      slices.push(`tap_${at}`);
    }
  }
  nodes.push(
    { op: "Concat", inputs: slices, outputs: ["taps"], attributes: { axis: { int: 0 } } }, // [KH·KW·Cin, B, OH, OW]
    { op: "Reshape", inputs: ["taps", "patch_shape"], outputs: ["patches_t"] },
    { op: "Reshape", inputs: ["x1", "dy_shape"], outputs: ["dy_rows"] },
    { op: "MatMul", inputs: ["patches_t", "dy_rows"], outputs: ["dw_rows"] },
    { op: "Reshape", inputs: ["dw_rows", "filter_shape"], outputs: ["y"] },
  );
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
