/**
 * `Conv2DBackpropInput` (the gradient of Conv2D for its input, i.e. a transposed convolution) as ONNX ConvTranspose.
 * ConvTranspose's weight is [C_in of the transpose = Cout, Cin, KH, KW]: the same transpose as Conv's.
 * `output_padding` restores the rows/columns the forward conv's stride skipped, so the result is exactly
 * `inputShape`.
 */
import * as tf from "@tensorflow/tfjs";
import { FILTER_TO_OIHW, NCHW_TO_NHWC, NHWC_TO_NCHW, onnxPads, transpose } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { convInfo, convKey } from "./conv2d.js";

export const conv2DBackpropInput: OrtKernel = { kernelName: tf.Conv2DBackpropInput, toGraph: (inputs, attrs) => {
  const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  const info = ortCanTake(dy, filter) ? convInfo(a.inputShape, filter.shape, a) : undefined;
  if (!info) return undefined;
  const covered = (out: number, stride: number, k: number, dilation: number, padBefore: number, padAfter: number) =>
    (out - 1) * stride + (k - 1) * dilation + 1 - padBefore - padAfter;
  const { top, bottom, left, right } = info.padInfo;
  const outputPadding = [
    info.inHeight - covered(info.outHeight, info.strideHeight, info.filterHeight, info.dilationHeight, top, bottom),
    info.inWidth - covered(info.outWidth, info.strideWidth, info.filterWidth, info.dilationWidth, left, right),
  ];
  const shape = [...a.inputShape];
  const key = `Conv2DBackpropInput|${convKey(info)}|o${outputPadding}|${shapesKey(dy, filter)}`;
  const graph = () => ({
    inputs: [{ name: "x0", shape: dy.shape }, { name: "x1", shape: filter.shape }],
    outputs: [{ name: "y", shape }],
    nodes: [
      transpose("x0", "dy_nchw", NHWC_TO_NCHW),
      transpose("x1", "w_oihw", FILTER_TO_OIHW),
      {
        op: "ConvTranspose",
        inputs: ["dy_nchw", "w_oihw"],
        outputs: ["dx_nchw"],
        attributes: {
          kernel_shape: { ints: [info.filterHeight, info.filterWidth] },
          strides: { ints: [info.strideHeight, info.strideWidth] },
          dilations: { ints: [info.dilationHeight, info.dilationWidth] },
          pads: { ints: onnxPads(info) },
          output_padding: { ints: outputPadding },
        },
      },
      transpose("dx_nchw", "y", NCHW_TO_NHWC),
    ],
  });
  return { key, graph, feeds: [dy, filter], outShape: shape };
} };
