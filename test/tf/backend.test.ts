/** Backend choice: the best available on auto, a named one or a clear error, never a silent fallback. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { ortKernelsRegistered } from "../../src/tf/ort/register.js";

test("auto skips the native backends that are not installed, says so, and lands on wasm with ONNX Runtime kernels", async () => {
  const choice = await initBackend("auto", {});
  assert.equal(choice.backend, "wasm-ort");
  assert.equal(choice.tfBackend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.ok(ortKernelsRegistered());
  assert.match(choice.reason, /tensorflow-gpu: not installed; tensorflow: not installed/);
});

test("a backend asked for by name is used", async () => {
  const choice = await initBackend("cpu", {});
  assert.equal(choice.backend, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.match(choice.reason, /requested with backend=cpu/);
});

test("plain wasm asked for by name runs its own kernels, with the training kernels it lacks added", async () => {
  await initBackend("wasm-ort", {});
  const choice = await initBackend("wasm", {});
  assert.equal(choice.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.ok(!ortKernelsRegistered());
  assert.ok(tf.getKernel("Conv2DBackpropFilter", "wasm"));
  assert.ok(tf.getKernel("UnsortedSegmentSum", "wasm"));
});

test("ALIGNPROP_BACKEND picks the backend when the config says auto", async () => {
  const choice = await initBackend("auto", { ALIGNPROP_BACKEND: "cpu" });
  assert.equal(choice.backend, "cpu");
  assert.match(choice.reason, /requested with ALIGNPROP_BACKEND=cpu/);
  await assert.rejects(initBackend("auto", { ALIGNPROP_BACKEND: "webgl" }), /ALIGNPROP_BACKEND="webgl" is unknown; use one of auto, tensorflow-gpu/);
});

test("a backend asked for by name that cannot start is an error naming it, not a fallback", async () => {
  await assert.rejects(initBackend("tensorflow-gpu", {}), /backend "tensorflow-gpu" was requested but cannot start/);
});
