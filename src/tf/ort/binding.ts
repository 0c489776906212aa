/**
 * The one place that touches onnxruntime-node's native binding. Its public `InferenceSession.run` is async (it
 * defers the native call with setImmediate), but TF.js kernels must return synchronously, so we call the native
 * session it wraps (`dist/binding.js` → `onnxruntime_binding.node`) directly. This is not public API: the binding
 * test pins the shape this module relies on, so an onnxruntime-node upgrade that changes it fails loudly there.
 *
 * What the native `run(feeds, fetches, options)` does (onnxruntime js/node/src/inference_session_wrap.cc):
 * numeric feeds are wrapped without a copy (the OrtValue points at the typed array's memory), and a fetch given as a
 * tensor is a preallocated output ORT writes into. So a kernel hands it views of the wasm heap and ORT reads its
 * inputs and writes its output in place.
 */
import { createRequire } from "node:module";

/** The plain object the binding reads as a tensor (it reads exactly these four properties). */
export interface OrtTensor {
  type: "float32" | "int32" | "bool";
  data: Float32Array | Int32Array | Uint8Array;
  dims: number[];
  location: "cpu";
}

/** Session options the binding parses (session_options_helper.cc); `extra` becomes session config entries. */
export interface OrtSessionOptions {
  intraOpNumThreads: number;
  interOpNumThreads: number;
  graphOptimizationLevel: "disabled" | "basic" | "extended" | "all";
  executionMode: "sequential" | "parallel";
  enableCpuMemArena: boolean;
  enableMemPattern: boolean;
  extra?: Record<string, string | Record<string, string | Record<string, string>>>;
}

interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: OrtSessionOptions): void;
  readonly inputMetadata: { name: string }[];
  readonly outputMetadata: { name: string }[];
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, OrtTensor | null>, options: object): Record<string, unknown>;
  dispose(): void;
}

interface BindingModule {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
}

/** The onnxruntime-node version this module was written against (package.json pins the same, exactly). */
export const ORT_VERSION = "1.30.0";

let loaded: BindingModule | undefined;

/** Loads the native binding once; throws naming the package and what is wrong when it cannot. */
export function ortBinding(): BindingModule {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const { version } = require("onnxruntime-node/dist/version.js") as { version: string };
  if (version !== ORT_VERSION) {
    throw new Error(`onnxruntime-node ${version} is installed but src/tf/ort/binding.ts was written for ${ORT_VERSION}`);
  }
  const mod = require("onnxruntime-node/dist/binding.js") as BindingModule;
  if (typeof mod.binding?.InferenceSession !== "function" || typeof mod.initOrt !== "function") {
    throw new Error("onnxruntime-node/dist/binding.js no longer exports { binding.InferenceSession, initOrt }");
  }
  mod.initOrt();
  loaded = mod;
  return mod;
}

/** A loaded one-graph session whose `run` returns when ORT has written the outputs. */
export class OrtSession {
  private readonly native: NativeSession;
  readonly inputNames: string[];
  readonly outputNames: string[];

  constructor(model: Uint8Array, options: OrtSessionOptions) {
    this.native = new (ortBinding().binding.InferenceSession)();
    this.native.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, options);
    this.inputNames = this.native.inputMetadata.map((m) => m.name);
    this.outputNames = this.native.outputMetadata.map((m) => m.name);
  }

  /** Runs synchronously: reads `feeds` in place and writes each output into the preallocated `outputs`. */
  run(feeds: Record<string, OrtTensor>, outputs: Record<string, OrtTensor>): void {
    this.native.run(feeds, outputs, {});
  }

  dispose(): void {
    this.native.dispose();
  }
}

/** Wraps a view (of the wasm heap, usually) as a tensor the binding reads or writes in place; float32 by default. */
export const ortTensor = (data: Float32Array | Int32Array | Uint8Array, dims: readonly number[], type: OrtTensor["type"] = "float32"): OrtTensor => ({
  type,
  data,
  dims: [...dims],
  location: "cpu",
});
