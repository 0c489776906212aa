/** Backend choice: the best available on auto, a named one or a clear error, never a silent fallback. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";

test("auto skips the native backends that are not installed, says so, and lands on wasm", async () => {
  const choice = await initBackend("auto");
  assert.equal(choice.backend, "wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.match(choice.reason, /tensorflow-gpu: not installed; tensorflow: not installed/);
});

test("a backend asked for by name is used", async () => {
  const choice = await initBackend("cpu");
  assert.equal(choice.backend, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.match(choice.reason, /requested with backend=cpu/);
});

test("a backend asked for by name that cannot start is an error naming it, not a fallback", async () => {
  await assert.rejects(initBackend("tensorflow-gpu"), /backend "tensorflow-gpu" was requested but cannot start/);
  await assert.rejects(initBackend("wasm-ort"), /"wasm-ort".*not available in this build/);
});
