/**
 * `UnsortedSegmentSum` for plain wasm, which ships without it (it is the gradient of `gather`, so embeddings need
 * it): out[id] += x[i] over the rows of x, ids outside [0, numSegments) dropped as in TensorFlow.
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

export const unsortedSegmentSumConfig: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const { x, segmentIds } = inputs as { x: tf.TensorInfo; segmentIds: tf.TensorInfo };
    const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
    if (x.dtype === "string" || x.dtype === "complex64") {
      throw new Error(`UnsortedSegmentSum on wasm: x.dtype=${x.dtype} is not supported; use float32, int32 or bool`);
    }
    const idRank = segmentIds.shape.length;
    if (x.shape.slice(0, idRank).join() !== segmentIds.shape.join()) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`);
    }
    const inner = tf.util.sizeFromShape(x.shape.slice(idRank));
    const outDtype = x.dtype === "bool" ? "int32" : x.dtype;
    const out = wasm.makeOutput([numSegments, ...x.shape.slice(idRank)], outDtype);
    const sums = wasm.typedArrayFromHeap(out);
    const values = wasm.typedArrayFromHeap(x);
    const ids = wasm.typedArrayFromHeap(segmentIds);
    sums.fill(0);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id < 0 || id >= numSegments) continue;
      for (let k = 0, to = id * inner, from = i * inner; k < inner; k++) sums[to + k]! += values[from + k]!;
    }
    return out;
  },
};
