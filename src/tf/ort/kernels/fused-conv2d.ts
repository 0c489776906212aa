/** `FusedConv2D` (conv + bias + activation) as one ORT graph; see conv2d.ts for the layout handling. */
import * as tf from "@tensorflow/tfjs";
import { ortCanTake, shapesKey, type OrtKernel } from "../ort-kernel.js";
import { convBlocked, convGraph, convInfo, convKey } from "./conv2d.js";

export const fusedConv2D: OrtKernel = {
  kernelName: tf.FusedConv2D,
  toGraph: (inputs, attrs, constant) => {
    const { x, filter, bias, preluActivationWeights: prelu } = inputs as Record<string, tf.TensorInfo | undefined>;
    const a = attrs as unknown as tf.FusedConv2DAttrs;
    const info = ortCanTake(x, filter, bias, prelu) ? convInfo(x!.shape, filter!.shape, a) : undefined;
    if (!info) return undefined;
    const feeds = [x!, filter!, ...(bias ? [bias] : []), ...(prelu ? [prelu] : [])];
    const epilogue = {
      activation: a.activation,
      leakyreluAlpha: a.leakyreluAlpha,
      ...(bias ? { bias: 2 } : {}),
      ...(prelu ? { prelu: feeds.length - 1 } : {}),
    };
    const blocked = convBlocked(info, filter!, constant);
    const key = `FusedConv2D|${convKey(info)}|${a.activation}|${a.leakyreluAlpha}|${shapesKey(x, filter, bias, prelu)}${blocked ? "|nchwc" : ""}`;
    return { key, graph: () => convGraph(info, feeds, epilogue, blocked), feeds, outShape: info.outShape };
  },
};
