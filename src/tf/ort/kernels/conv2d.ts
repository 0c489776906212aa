/**
 * `Conv2D` and (with its epilogue) `FusedConv2D` as ONNX Conv: NHWC input and [KH, KW, Cin, Cout] filter are
 * transposed inside the graph, so TF.js tensors go in and come out unchanged; a filter that is not a constant takes
 * ORT's blocked NCHWc conv instead (nchwc.ts).
 */
import * as tf from "@tensorflow/tfjs";
import type { OnnxGraph, OnnxInitializer, OnnxNode, OnnxValue } from "../onnx-model.js";
import { nchwcConvNodes, nchwcFits } from "../nchwc.js";
import { activationNodes, FILTER_TO_OIHW, NCHW_TO_NHWC, NHWC_TO_NCHW, onnxPads, transpose } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";

export interface ConvEpilogue {
  /** Input index of the bias, if any; a [Cout] bias is fused into Conv, another shape is added in NHWC. */
  bias?: number;
  activation: tf.fused.Activation;
  leakyreluAlpha?: number;
  /** Input index of the PReLU slopes (broadcast against the NHWC output). */
  prelu?: number;
}

/**
 * x0 [B, H, W, Cin] ⊛ x1 [KH, KW, Cin, Cout] (+ bias, activation) → y [B, OH, OW, Cout]; `blocked`: in NCHWc (nchwc.ts,
 * for a filter that is not a constant), else ONNX Conv between NCHW transposes.
 */
export function convGraph(info: tf.backend_util.Conv2DInfo, feeds: readonly tf.TensorInfo[], epilogue?: ConvEpilogue, blocked = false): OnnxGraph {
  const biasInConv = epilogue?.bias !== undefined && feeds[epilogue.bias]!.shape.join() === `${info.outChannels}`;
  const attributes: OnnxNode["attributes"] = {
    kernel_shape: { ints: [info.filterHeight, info.filterWidth] },
    strides: { ints: [info.strideHeight, info.strideWidth] },
    dilations: { ints: [info.dilationHeight, info.dilationWidth] },
    pads: { ints: onnxPads(info) },
  };
  const bias = biasInConv ? `x${epilogue!.bias}` : undefined;
  const inputs: OnnxValue[] = feeds.map((t, i) => ({ name: `x${i}`, shape: t.shape }));
  const outputs = [{ name: "y", shape: info.outShape }];
  if (blocked) {
    const conv = nchwcConvNodes({ input: "x0", filter: "x1", bias, output: epilogue ? "conv_nhwc" : "y", prefix: "nchwc" }, feeds[1]!.shape, attributes);
    if (!epilogue) return { inputs, outputs, ...conv };
    const tail = nhwcEpilogue(epilogue, biasInConv);
    return { inputs, outputs, nodes: [...conv.nodes, ...tail.nodes], initializers: [...conv.initializers, ...tail.initializers] };
  }
  const nodes: OnnxNode[] = [
    transpose("x0", "x_nchw", NHWC_TO_NCHW),
    transpose("x1", "w_oihw", FILTER_TO_OIHW),
    { op: "Conv", inputs: ["x_nchw", "w_oihw", ...(bias ? [bias] : [])], outputs: ["conv"], attributes },
  ];
  if (!epilogue) return { inputs, outputs, nodes: [...nodes, transpose("conv", "y", NCHW_TO_NHWC)] };
  const { activation, leakyreluAlpha } = epilogue;
  if (activation !== "prelu" && (biasInConv || epilogue.bias === undefined)) {
    // Activation before the transpose, where ORT fuses it into the Conv.
    const act = activationNodes(activation, "conv", "act", leakyreluAlpha, slopes(epilogue));
    return { inputs, outputs, nodes: [...nodes, ...act.nodes, transpose("act", "y", NCHW_TO_NHWC)], initializers: act.initializers };
  }
  const tail = nhwcEpilogue(epilogue, biasInConv);
  return { inputs, outputs, nodes: [...nodes, transpose("conv", "conv_nhwc", NCHW_TO_NHWC), ...tail.nodes], initializers: tail.initializers };
}

/** The graph input holding PReLU's slopes, if the epilogue has them. */
const slopes = (epilogue: ConvEpilogue): string | undefined => (epilogue.prelu === undefined ? undefined : `x${epilogue.prelu}`);

/** The epilogue on the NHWC conv output `conv_nhwc` → y: a bias the Conv did not take, then the activation. */
function nhwcEpilogue(epilogue: ConvEpilogue, biasInConv: boolean): { nodes: OnnxNode[]; initializers: OnnxInitializer[] } {
  const nodes: OnnxNode[] = [];
  let pre = "conv_nhwc";
  if (!biasInConv && epilogue.bias !== undefined) nodes.push({ op: "Add", inputs: [pre, `x${epilogue.bias}`], outputs: [(pre = "biased")] });
  const act = activationNodes(epilogue.activation, pre, "y", epilogue.leakyreluAlpha, slopes(epilogue));
  return { nodes: [...nodes, ...act.nodes], initializers: act.initializers ?? [] };
}

/**
 * Whether a conv (or the input gradient's conv of the flipped filter) runs in NCHWc (nchwc.ts): a filter that is not
 * a constant of the graph (`constant` says which inputs a trace baked in; a one-kernel session feeds all), no
 * dilation, channels in whole blocks.
 */
export const convBlocked = (info: tf.backend_util.Conv2DInfo, filter: tf.TensorInfo, constant?: (t: tf.TensorInfo) => boolean): boolean =>
  !constant?.(filter) && info.dilationHeight === 1 && info.dilationWidth === 1 && nchwcFits(info.inChannels, info.outChannels);

/** TF.js's conv geometry for these attributes, or undefined when ORT should not take them (NCHW data). */
export function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Pick<tf.Conv2DAttrs, "strides" | "pad" | "dataFormat" | "dimRoundingMode"> & { dilations?: tf.Conv2DAttrs["dilations"] },
): tf.backend_util.Conv2DInfo | undefined {
  if (attrs.dataFormat === "NCHW") return undefined;
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
}

/** The cache key part for a conv geometry: everything the graph depends on besides shapes. */
export const convKey = (info: tf.backend_util.Conv2DInfo): string =>
  `s${info.strideHeight},${info.strideWidth}|d${info.dilationHeight},${info.dilationWidth}|p${onnxPads(info)}`;

export const conv2D: OrtKernel = {
  kernelName: tf.Conv2D,
  toGraph: (inputs, attrs, constant) => {
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const info = ortCanTake(x, filter) ? convInfo(x.shape, filter.shape, attrs as unknown as tf.Conv2DAttrs) : undefined;
    if (!info) return undefined;
    const blocked = convBlocked(info, filter, constant);
    const key = `Conv2D|${convKey(info)}|${shapesKey(x, filter)}${blocked ? "|nchwc" : ""}`;
    return { key, graph: () => convGraph(info, [x, filter], undefined, blocked), feeds: [x, filter], outShape: info.outShape };
  },
};
