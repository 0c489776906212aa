/**
 * The TF.js backends by the names a config, `ALIGNPROP_BACKEND` and `bench --backends` take, fastest first: the order
 * "auto" tries them (backend.ts). A module of its own so the config schema and the CLI name them without loading TF.js.
 */
export const BACKEND_NAMES = ["tensorflow-gpu", "tensorflow", "wasm-ort", "wasm", "cpu"] as const;

export type ConcreteBackend = (typeof BACKEND_NAMES)[number];
export type BackendName = "auto" | ConcreteBackend;
