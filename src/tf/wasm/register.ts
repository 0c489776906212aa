/** Registers the kernels plain wasm lacks for training (never replacing a kernel wasm has). */
import * as tf from "@tensorflow/tfjs";
import { conv2DBackpropFilterConfig } from "./conv2d-backprop-filter.js";
import { unsortedSegmentSumConfig } from "./unsorted-segment-sum.js";

export const WASM_FALLBACK_KERNELS: readonly tf.KernelConfig[] = [conv2DBackpropFilterConfig, unsortedSegmentSumConfig];

export function registerWasmFallbackKernels(): void {
  for (const config of WASM_FALLBACK_KERNELS) {
    if (!tf.getKernel(config.kernelName, "wasm")) tf.registerKernel(config);
  }
}
