/**
 * The contract src/tf/ort/binding.ts relies on in onnxruntime-node's native binding (not public API). If an upgrade
 * changes any of it, these fail and name what changed.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { ORT_VERSION, OrtSession, ortTensor } from "../../src/tf/ort/binding.js";
import { encodeModel } from "../../src/tf/ort/onnx-model.js";

const require = createRequire(import.meta.url);
const OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  enableCpuMemArena: true,
  enableMemPattern: true,
} as const;

test("package.json pins the optional onnxruntime-node exactly to the version the binding wrapper was written for", () => {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.optionalDependencies["onnxruntime-node"], ORT_VERSION);
  assert.equal(require("onnxruntime-node/dist/version.js").version, ORT_VERSION);
});

test("dist/binding.js exports a native InferenceSession with loadModel, run, dispose and io metadata", () => {
  const { binding, initOrt } = require("onnxruntime-node/dist/binding.js");
  assert.equal(typeof initOrt, "function");
  assert.equal(typeof binding.InferenceSession, "function");
  const names = Object.getOwnPropertyNames(binding.InferenceSession.prototype);
  for (const name of ["loadModel", "run", "dispose", "inputMetadata", "outputMetadata"]) {
    assert.ok(names.includes(name), `InferenceSession.prototype.${name} is gone (has ${names.join(", ")})`);
  }
});

test("run is synchronous, reads inputs in place and writes into a preallocated output view", () => {
  const model = encodeModel({
    inputs: [{ name: "x0", shape: [2, 3] }, { name: "x1", shape: [3, 2] }],
    outputs: [{ name: "y", shape: [2, 2] }],
    nodes: [{ op: "MatMul", inputs: ["x0", "x1"], outputs: ["y"] }],
  });
  const session = new OrtSession(model, OPTIONS);
  assert.deepEqual(session.inputNames, ["x0", "x1"]);
  assert.deepEqual(session.outputNames, ["y"]);
  // One buffer standing in for the wasm heap: a [2, 3], b [3, 2] and y [2, 2] at offsets, guards around y.
  const heap = new Float32Array(20).fill(-7);
  const a = heap.subarray(1, 7);
  const b = heap.subarray(7, 13);
  const y = heap.subarray(14, 18);
  a.set([1, 2, 3, 4, 5, 6]);
  b.set([1, 0, 0, 1, 1, 1]);
  const feeds = { x0: ortTensor(a, [2, 3]), x1: ortTensor(b, [3, 2]) };
  const returned = session.run(feeds, { y: ortTensor(y, [2, 2]) });
  assert.equal(returned, undefined);
  assert.deepEqual(Array.from(y), [4, 5, 10, 11]);
  assert.equal(heap[13], -7);
  assert.equal(heap[18], -7);
  a[0] = 11;
  session.run(feeds, { y: ortTensor(y, [2, 2]) });
  assert.deepEqual(Array.from(y), [14, 5, 10, 11]);
  session.dispose();
});

test("session options reach ORT when the model is loaded from a buffer", () => {
  const model = encodeModel({
    inputs: [{ name: "x0", shape: [2] }],
    outputs: [{ name: "y", shape: [2] }],
    nodes: [{ op: "Relu", inputs: ["x0"], outputs: ["y"] }],
  });
  assert.throws(() => new OrtSession(model, { ...OPTIONS, intraOpNumThreads: -3 }), /intraOpNumThreads/);
});
