/** `BatchMatMul` through ONNX MatMul, with NumPy batch broadcasting as TF.js has; transposes fuse into it in ORT. */
import * as tf from "@tensorflow/tfjs";
import type { OnnxNode } from "../onnx-model.js";
import { swapLastTwo, transpose } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";

/** Nodes computing op(x0) · op(x1) into `output`, and that product's shape. */
export function matMulNodes(
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  output: string,
): { nodes: OnnxNode[]; shape: number[] } {
  const nodes: OnnxNode[] = [];
  let left = "x0";
  let right = "x1";
  if (transposeA) nodes.push(transpose("x0", (left = "x0_t"), swapLastTwo(a.shape.length)));
  if (transposeB) nodes.push(transpose("x1", (right = "x1_t"), swapLastTwo(b.shape.length)));
  nodes.push({ op: "MatMul", inputs: [left, right], outputs: [output] });
  const ra = a.shape.length;
  const rb = b.shape.length;
  const outer = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const innerA = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const innerB = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const outerB = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (innerA !== innerB) {
    throw new Error(
      `BatchMatMul: inner dimensions differ: a [${a.shape}] (transposeA=${transposeA}), b [${b.shape}] (transposeB=${transposeB})`,
    );
  }
  const batch = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { nodes, shape: [...batch, outer, outerB] };
}

export const batchMatMul: OrtKernel = {
  kernelName: tf.BatchMatMul,
  toGraph: (inputs, attrs) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!ortCanTake(a, b)) return undefined;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const { nodes, shape } = matMulNodes(a, b, transposeA, transposeB, "y");
    const key = `BatchMatMul|${+transposeA}${+transposeB}|${shapesKey(a, b)}`;
    const graph = () => ({
      inputs: [{ name: "x0", shape: a.shape }, { name: "x1", shape: b.shape }],
      outputs: [{ name: "y", shape }],
      nodes,
    });
    return { key, graph, feeds: [a, b], outShape: shape };
  },
};
