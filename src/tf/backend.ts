/**
 * Picks the TF.js backend for this host. Order when `prefer` is "auto": tfjs-node-gpu → tfjs-node → wasm → cpu.
 * The native packages are optional (they download libtensorflow at install, which not every host allows), so each
 * is tried with a dynamic import. A backend asked for by name that cannot start is an error, never a silent fallback.
 */
import * as tf from "@tensorflow/tfjs";

export type BackendName = "auto" | "tensorflow-gpu" | "tensorflow" | "wasm-ort" | "wasm" | "cpu";

export interface BackendChoice {
  /** TF.js backend name as tf.getBackend() reports it. */
  backend: string;
  /** What was asked for and why this one was chosen. */
  reason: string;
}

type Attempt = { name: Exclude<BackendName, "auto">; start: () => Promise<string> };

async function registerNative(pkg: string): Promise<string> {
  await import(pkg);
  return "tensorflow";
}

async function registerWasm(): Promise<string> {
  await import("@tensorflow/tfjs-backend-wasm");
  return "wasm";
}

const ATTEMPTS: Attempt[] = [
  { name: "tensorflow-gpu", start: () => registerNative("@tensorflow/tfjs-node-gpu") },
  { name: "tensorflow", start: () => registerNative("@tensorflow/tfjs-node") },
  { name: "wasm", start: registerWasm },
  { name: "cpu", start: async () => "cpu" },
];

async function tryStart(attempt: Attempt): Promise<string> {
  const backend = await attempt.start();
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
  await tf.ready();
  return backend;
}

export async function initBackend(prefer: BackendName = "auto"): Promise<BackendChoice> {
  if (prefer === "wasm-ort") {
    throw new Error(`backend "wasm-ort" (wasm with ONNX Runtime kernels) is not available in this build; use "wasm" or "cpu"`);
  }
  if (prefer !== "auto") {
    const attempt = ATTEMPTS.find((a) => a.name === prefer)!;
    try {
      return { backend: await tryStart(attempt), reason: `requested with backend=${prefer}` };
    } catch (err) {
      throw new Error(`backend "${prefer}" was requested but cannot start: ${(err as Error).message}`);
    }
  }
  const skipped: string[] = [];
  for (const attempt of ATTEMPTS) {
    try {
      const backend = await tryStart(attempt);
      return { backend, reason: skipped.length ? `auto; ${skipped.join("; ")}` : "auto: fastest available" };
    } catch (err) {
      skipped.push(`${attempt.name}: ${whyNot((err as Error).message)}`);
    }
  }
  throw new Error(`no TF.js backend could start: ${skipped.join("; ")}`);
}

const whyNot = (message: string) =>
  /^Cannot find (package|module)/.test(message) ? "not installed" : message.split("\n")[0]!;
