/**
 * Node patterns the ORT kernels' graphs share: transposes (TF.js keeps images NHWC and filters [KH, KW, Cin, Cout],
 * ONNX convolutions want NCHW and [Cout, Cin, KH, KW]) and the fused activations of `_FusedMatMul`/`FusedConv2D`.
 */
import type * as tf from "@tensorflow/tfjs";
import type { OnnxInitializer, OnnxNode } from "./onnx-model.js";

export const NHWC_TO_NCHW = [0, 3, 1, 2];
export const NCHW_TO_NHWC = [0, 2, 3, 1];
/** TF.js conv filter [KH, KW, Cin, Cout] → ONNX Conv weight [Cout, Cin, KH, KW]. */
export const FILTER_TO_OIHW = [3, 2, 0, 1];

export const transpose = (input: string, output: string, perm: readonly number[]): OnnxNode => ({
  op: "Transpose",
  inputs: [input],
  outputs: [output],
  attributes: { perm: { ints: perm } },
});

/** A 1-D int64 initializer (shapes, axes, Slice bounds: the operands opset 17 takes as inputs). */
export const int64 = (name: string, values: readonly number[]): OnnxInitializer => ({
  name,
  dims: [values.length],
  dataType: "int64",
  values,
});

/** The permutation that swaps the last two axes of a rank-`rank` tensor. */
export const swapLastTwo = (rank: number): number[] => [...Array(rank - 2).keys(), rank - 1, rank - 2];

/** Conv/ConvTranspose `pads` ([top, left, bottom, right]) from TF.js's computed padding. */
export const onnxPads = (info: tf.backend_util.Conv2DInfo): number[] => [
  info.padInfo.top,
  info.padInfo.left,
  info.padInfo.bottom,
  info.padInfo.right,
];

export interface Epilogue {
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
}

/**
 * Nodes applying a TF.js fused activation to `input`, writing `output`. `prelu` names the PReLU slope input,
 * which ONNX broadcasts against the input as TF.js does.
 */
export function activationNodes(
  activation: tf.fused.Activation,
  input: string,
  output: string,
  leakyreluAlpha: number | undefined,
  prelu: string | undefined,
): Epilogue {
  const unary = (op: string, attributes?: OnnxNode["attributes"]): Epilogue => ({
    nodes: [{ op, inputs: [input], outputs: [output], ...(attributes ? { attributes } : {}) }],
    initializers: [],
  });
  switch (activation) {
    case "linear":
      return unary("Identity");
    case "relu":
      return unary("Relu");
    case "sigmoid":
      return unary("Sigmoid");
    case "elu":
      return unary("Elu", { alpha: { float: 1 } });
    case "leakyrelu":
      return unary("LeakyRelu", { alpha: { float: leakyreluAlpha ?? 0.2 } });
    case "relu6":
      return {
        nodes: [{ op: "Clip", inputs: [input, "relu6_min", "relu6_max"], outputs: [output] }],
        initializers: [
          { name: "relu6_min", dims: [], dataType: "float32", values: [0] },
          { name: "relu6_max", dims: [], dataType: "float32", values: [6] },
        ],
      };
    case "prelu":
      if (!prelu) throw new Error("activation=prelu needs preluActivationWeights");
      return { nodes: [{ op: "PRelu", inputs: [input, prelu], outputs: [output] }], initializers: [] };
  }
}
