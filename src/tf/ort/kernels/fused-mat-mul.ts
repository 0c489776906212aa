/** `_FusedMatMul` (matmul + bias + activation) as one ORT graph: MatMul → Add → activation. */
import * as tf from "@tensorflow/tfjs";
import type { OnnxValue } from "../onnx-model.js";
import { activationNodes } from "../graph-parts.js";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { matMulNodes } from "./batch-mat-mul.js";

export const fusedMatMul: OrtKernel = {
  kernelName: tf._FusedMatMul,
  toGraph: (inputs, attrs) => {
    const { a, b, bias, preluActivationWeights: prelu } = inputs as Record<string, tf.TensorInfo | undefined>;
    if (!ortCanTake(a, b, bias, prelu)) return undefined;
    const { transposeA, transposeB, activation, leakyreluAlpha } = attrs as unknown as tf._FusedMatMulAttrs;
    const feeds = [a!, b!, ...(bias ? [bias] : []), ...(prelu ? [prelu] : [])];
    const { nodes, shape } = matMulNodes(a!, b!, transposeA, transposeB, "product");
    const key = `_FusedMatMul|${+transposeA}${+transposeB}|${activation}|${leakyreluAlpha}|${shapesKey(a, b, bias, prelu)}`;
    const graph = () => {
      const biased = bias ? "biased" : "product";
      const epilogue = bias ? [{ op: "Add", inputs: ["product", "x2"], outputs: [biased] }] : [];
      const act = activationNodes(activation, biased, "y", leakyreluAlpha, prelu ? `x${feeds.length - 1}` : undefined);
      const graphInputs: OnnxValue[] = feeds.map((t, i) => ({ name: `x${i}`, shape: t.shape }));
      return {
        inputs: graphInputs,
        outputs: [{ name: "y", shape }],
        nodes: [...nodes, ...epilogue, ...act.nodes],
        initializers: act.initializers,
      };
    };
    return { key, graph, feeds, outShape: shape };
  },
};
