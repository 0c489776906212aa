/**
 * `Conv2DBackpropInput` (the gradient of Conv2D for its input, i.e. a transposed convolution). With stride and
 * dilation 1 it is a plain convolution of dy with the filter flipped in space and its channels swapped, padded by
 * k − 1 − pad: ONNX Conv, which ORT runs in its blocked NCHWc layout with the weight prepacked when the filter is a
 * constant (a frozen weight in a traced graph): about 1.6× as fast on the bench shape as ConvTranspose's
 * matmul + col2im.
 * A filter that is not a constant takes that conv in NCHWc too, its filter reordered inside the graph (nchwc.ts).
 * Otherwise ONNX ConvTranspose, whose weight is [C_in of the transpose = Cout, Cin, KH, KW] (the same transpose as
 * Conv's) and whose `output_padding` restores the rows/columns the forward conv's stride skipped, so the result is
 * exactly `inputShape`.
 */
import * as tf from "@tensorflow/tfjs";
import type { OnnxGraph } from "../onnx-model.js";
import { FILTER_TO_OIHW, int64, NCHW_TO_NHWC, NHWC_TO_NCHW, onnxPads, transpose } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { nchwcConvNodes } from "../nchwc.js";
import { convBlocked, convInfo, convKey } from "./conv2d.js";

export const conv2DBackpropInput: OrtKernel = { kernelName: tf.Conv2DBackpropInput, toGraph: (inputs, attrs, constant) => {
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
  const flippedPads = [info.filterHeight - 1 - top, info.filterWidth - 1 - left, info.filterHeight - 1 - bottom, info.filterWidth - 1 - right];
  const asConv = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1 && flippedPads.every((p) => p >= 0);
  const values = [{ name: "x0", shape: dy.shape }, { name: "x1", shape: filter.shape }];
  const outputs = [{ name: "y", shape }];
  const kernelShape = { ints: [info.filterHeight, info.filterWidth] };
  const convTranspose = (): OnnxGraph => ({
    inputs: values,
    outputs,
    nodes: [
      transpose("x0", "dy_nchw", NHWC_TO_NCHW),
      transpose("x1", "w_oihw", FILTER_TO_OIHW),
      {
        op: "ConvTranspose",
        inputs: ["dy_nchw", "w_oihw"],
        outputs: ["dx_nchw"],
        attributes: {
          kernel_shape: kernelShape,
          strides: { ints: [info.strideHeight, info.strideWidth] },
          dilations: { ints: [info.dilationHeight, info.dilationWidth] },
          pads: { ints: onnxPads(info) },
          output_padding: { ints: outputPadding },
        },
      },
      transpose("dx_nchw", "y", NCHW_TO_NHWC),
    ],
  });
  // The Slice operands that reverse the filter's two spatial axes (at `axes`); end −(K+1) clamps to before index 0.
  const flipOperands = (axes: number[]) => [
    int64("flip_starts", [-1, -1]),
    int64("flip_ends", [-(info.filterHeight + 1), -(info.filterWidth + 1)]),
    int64("flip_axes", axes),
    int64("flip_steps", [-1, -1]),
  ];
  // dx[b, i, j, ci] = Σ dy_padded[b, i + u, j + v, co] · w[KH-1-u, KW-1-v, ci, co]: a Conv with weight [Cin, Cout, KH, KW]
  // reversed along KH and KW.
  const conv = (): OnnxGraph => ({
    inputs: values,
    outputs,
    initializers: flipOperands([2, 3]),
    nodes: [
      transpose("x0", "dy_nchw", NHWC_TO_NCHW),
      transpose("x1", "w_iokk", [2, 3, 0, 1]),
      { op: "Slice", inputs: ["w_iokk", "flip_starts", "flip_ends", "flip_axes", "flip_steps"], outputs: ["w_flipped"] },
      { op: "Conv", inputs: ["dy_nchw", "w_flipped"], outputs: ["dx_nchw"], attributes: { kernel_shape: kernelShape, pads: { ints: flippedPads } } },
      transpose("dx_nchw", "y", NCHW_TO_NHWC),
    ],
  });
  // The same conv in NCHWc (nchwc.ts) when the filter is not a constant: its [KH, KW, Cout, Cin] form flipped in space.
  const blockedConv = (): OnnxGraph => {
    const flipped = [info.filterHeight, info.filterWidth, info.outChannels, info.inChannels];
    const blocked = nchwcConvNodes({ input: "x0", filter: "w_hwoi", output: "y", prefix: "nchwc" }, flipped, { kernel_shape: kernelShape, pads: { ints: flippedPads } });
    return {
      inputs: values,
      outputs,
      initializers: [...flipOperands([0, 1]), ...blocked.initializers],
      nodes: [
        { op: "Slice", inputs: ["x1", "flip_starts", "flip_ends", "flip_axes", "flip_steps"], outputs: ["w_flipped"] },
        transpose("w_flipped", "w_hwoi", [0, 1, 3, 2]),
        ...blocked.nodes,
      ],
    };
  };
  const blocked = asConv && convBlocked(info, filter, constant);
  const graph = blocked ? blockedConv : asConv ? conv : convTranspose;
  return { key: `${key}${blocked ? "|nchwc" : ""}`, graph, feeds: [dy, filter], outShape: shape };
} };
