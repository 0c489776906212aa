/**
 * Picks the TF.js backend for this host. Order when `prefer` is "auto": tfjs-node-gpu → tfjs-node → wasm-ort (the
 * wasm backend with its heavy kernels run by ONNX Runtime) → wasm → cpu. The native packages are optional (they
 * download libtensorflow at install, which not every host allows), so each is tried with a dynamic import. A backend
 * asked for by name that cannot start is an error, never a silent fallback. `ALIGNPROP_BACKEND` names the backend
 * when `prefer` is "auto".
 */
import * as tf from "@tensorflow/tfjs";
import { BACKEND_NAMES, type BackendName, type ConcreteBackend } from "./backend-names.js";
import { registerOrtKernels, unregisterOrtKernels } from "./ort/register.js";
import { registerWasmFallbackKernels } from "./wasm/register.js";

export type { BackendName } from "./backend-names.js";

export interface BackendChoice {
  /** The backend chosen, by the names `prefer` takes ("wasm-ort" runs on TF.js's "wasm"). */
  backend: ConcreteBackend;
  /** TF.js backend name as tf.getBackend() reports it. */
  tfBackend: string;
  /** What was asked for and why this one was chosen. */
  reason: string;
}

type Attempt = { name: ConcreteBackend; start: () => Promise<string> };

async function registerNative(pkg: string): Promise<string> {
  await import(pkg);
  return "tensorflow";
}

async function startWasm(withOrt: boolean): Promise<string> {
  await import("@tensorflow/tfjs-backend-wasm");
  if (!(await tf.setBackend("wasm"))) throw new Error(`tf.setBackend("wasm") failed`);
  registerWasmFallbackKernels();
  if (withOrt) registerOrtKernels();
  else unregisterOrtKernels();
  return "wasm";
}

const START: Record<ConcreteBackend, () => Promise<string>> = {
  "tensorflow-gpu": () => registerNative("@tensorflow/tfjs-node-gpu"),
  tensorflow: () => registerNative("@tensorflow/tfjs-node"),
  "wasm-ort": () => startWasm(true),
  wasm: () => startWasm(false),
  cpu: async () => "cpu",
};
const ATTEMPTS: Attempt[] = BACKEND_NAMES.map((name) => ({ name, start: START[name] }));

async function tryStart(attempt: Attempt): Promise<string> {
  const backend = await attempt.start();
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend("${backend}") failed`);
  await tf.ready();
  return backend;
}

export async function initBackend(prefer: BackendName = "auto", env: NodeJS.ProcessEnv = process.env): Promise<BackendChoice> {
  const fromEnv = prefer === "auto" && env.ALIGNPROP_BACKEND ? env.ALIGNPROP_BACKEND : undefined;
  if (fromEnv && fromEnv !== "auto") prefer = fromEnv as BackendName;
  if (prefer !== "auto") {
    const attempt = ATTEMPTS.find((a) => a.name === prefer);
    if (!attempt) {
      const source = fromEnv ? "ALIGNPROP_BACKEND" : "backend";
      throw new Error(`${source}=${JSON.stringify(prefer)} is unknown; use one of auto, ${ATTEMPTS.map((a) => a.name).join(", ")}`);
    }
    try {
      const tfBackend = await tryStart(attempt);
      const how = fromEnv ? `ALIGNPROP_BACKEND=${prefer}` : `backend=${prefer}`;
      return { backend: attempt.name, tfBackend, reason: `requested with ${how}` };
    } catch (err) {
      throw new Error(`backend "${prefer}" was requested but cannot start: ${(err as Error).message}`);
    }
  }
  const skipped: string[] = [];
  for (const attempt of ATTEMPTS) {
    try {
      const tfBackend = await tryStart(attempt);
      return { backend: attempt.name, tfBackend, reason: skipped.length ? `auto; ${skipped.join("; ")}` : "auto: fastest available" };
    } catch (err) {
      skipped.push(`${attempt.name}: ${whyNot((err as Error).message)}`);
    }
  }
  throw new Error(`no TF.js backend could start: ${skipped.join("; ")}`);
}

const whyNot = (message: string) =>
  /^Cannot find (package|module)/.test(message) ? "not installed" : message.split("\n")[0]!;
