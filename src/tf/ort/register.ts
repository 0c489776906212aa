/**
 * Puts the ORT kernels on the wasm backend and takes them off again. Registering remembers the kernel each one
 * replaces (the stock wasm kernel, or our plain-wasm fallback) so that unregistering restores it and the ORT
 * kernels can hand it the calls ORT does not take.
 */
import * as tf from "@tensorflow/tfjs";
import { ortBinding } from "./binding.js";
import { conv2DBackpropFilter } from "./kernels/conv2d-backprop-filter.js";
import { conv2DBackpropInput } from "./kernels/conv2d-backprop-input.js";
import { conv2D } from "./kernels/conv2d.js";
import { batchMatMul } from "./kernels/batch-mat-mul.js";
import { fusedConv2D } from "./kernels/fused-conv2d.js";
import { fusedMatMul } from "./kernels/fused-mat-mul.js";
import { ortKernelConfig, replacedKernels, type OrtKernel } from "./ort-kernel.js";

/** The heavy kernels ORT runs on the wasm backend, one session per call shape. */
export const ORT_KERNEL_GRAPHS: readonly OrtKernel[] = [batchMatMul, fusedMatMul, conv2D, conv2DBackpropInput, conv2DBackpropFilter, fusedConv2D];

export const ORT_KERNELS: readonly tf.KernelConfig[] = ORT_KERNEL_GRAPHS.map(ortKernelConfig);

let registered = false;

/**
 * Registers the ORT kernels on an initialized wasm backend (stock kernels get their one-time setup when the backend
 * starts, so it must have started). Loads the native binding first: a host ORT does not ship for fails here,
 * naming the cause, before anything changes.
 */
export function registerOrtKernels(): void {
  if (registered) return;
  ortBinding();
  if (!tf.engine().registry["wasm"]) {
    throw new Error('registerOrtKernels: the wasm backend is not initialized (await tf.setBackend("wasm") first)');
  }
  for (const config of ORT_KERNELS) {
    const current = tf.getKernel(config.kernelName, "wasm");
    if (current) {
      replacedKernels.set(config.kernelName, current);
      tf.unregisterKernel(config.kernelName, "wasm");
    }
    tf.registerKernel(config);
  }
  registered = true;
}

/** Restores the kernels the ORT ones replaced (plain wasm). */
export function unregisterOrtKernels(): void {
  if (!registered) return;
  for (const config of ORT_KERNELS) {
    tf.unregisterKernel(config.kernelName, "wasm");
    const replaced = replacedKernels.get(config.kernelName);
    if (replaced) tf.registerKernel(replaced);
    replacedKernels.delete(config.kernelName);
  }
  registered = false;
}

export const ortKernelsRegistered = (): boolean => registered;
