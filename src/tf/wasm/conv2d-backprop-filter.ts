/**
 * `Conv2DBackpropFilter` for plain wasm, which ships without it: im2col in JS over the wasm heap, then the
 * backend's own BatchMatMul:
 *   patches[b·OH·OW + oh·OW + ow, (kh·KW + kw)·Cin + ci] = x[b, oh·s + kh − top, ow·s + kw − left, ci] (0 outside)
 *   dW [KH·KW·Cin, Cout] = patchesᵀ · dy [B·OH·OW, Cout]
 */
import * as tf from "@tensorflow/tfjs";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";

function im2col(info: tf.backend_util.Conv2DInfo, x: Float32Array, patches: Float32Array): void {
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth, padInfo } = info;
  const rowLength = filterHeight * filterWidth * c;
  let row = 0;
  for (let b = 0; b < batchSize; b++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let ow = 0; ow < outWidth; ow++, row++) {
        let at = row * rowLength;
        for (let kh = 0; kh < filterHeight; kh++) {
          const h = oh * strideHeight + kh - padInfo.top;
          for (let kw = 0; kw < filterWidth; kw++, at += c) {
            const w = ow * strideWidth + kw - padInfo.left;
            if (h < 0 || h >= inHeight || w < 0 || w >= inWidth) patches.fill(0, at, at + c);
            else patches.set(x.subarray(((b * inHeight + h) * inWidth + w) * c, ((b * inHeight + h) * inWidth + w + 1) * c), at);
          }
        }
      }
    }
  }
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs, backend }) => {
    const wasm = backend as BackendWasm;
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    if (dataFormat === "NCHW") throw new Error(`Conv2DBackpropFilter on wasm: dataFormat=NCHW is not supported; use NHWC`);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode);
    const rows = info.batchSize * info.outHeight * info.outWidth;
    const taps = info.filterHeight * info.filterWidth * info.inChannels;
    const patches = wasm.makeOutput([1, rows, taps], "float32");
    im2col(info, wasm.typedArrayFromHeap(x) as Float32Array, wasm.typedArrayFromHeap(patches) as Float32Array);
    const matMul = tf.getKernel(tf.BatchMatMul, "wasm")!.kernelFunc;
    const dyRows = { dataId: dy.dataId, shape: [1, rows, info.outChannels], dtype: dy.dtype };
    const dw = matMul({ inputs: { a: patches, b: dyRows }, attrs: { transposeA: true, transposeB: false }, backend }) as tf.TensorInfo;
    wasm.disposeData(patches.dataId);
    return { dataId: dw.dataId, shape: [...filterShape], dtype: dw.dtype };
  },
};
