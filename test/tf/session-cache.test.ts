/** The ORT session cache: one session per key, least recently used evicted past capacity, threads from the env. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ortSpinning, ortThreads, SessionCache } from "../../src/tf/ort/session-cache.js";
import type { OnnxGraph } from "../../src/tf/ort/onnx-model.js";

const relu = (): OnnxGraph => ({
  inputs: [{ name: "x0", shape: [1] }],
  outputs: [{ name: "y", shape: [1] }],
  nodes: [{ op: "Relu", inputs: ["x0"], outputs: ["y"] }],
});

test("a key's graph is built once and its session reused", () => {
  const cache = new SessionCache(4, 1);
  let builds = 0;
  const build = () => (builds++, relu());
  const first = cache.get("relu", build);
  assert.equal(cache.get("relu", build), first);
  assert.equal(builds, 1);
  cache.clear();
});

test("past capacity the least recently used session is evicted", () => {
  const cache = new SessionCache(2, 1);
  cache.get("a", relu);
  cache.get("b", relu);
  cache.get("a", relu);
  cache.get("c", relu);
  assert.deepEqual(cache.keys(), ["a", "c"]);
  cache.clear();
  assert.equal(cache.size, 0);
});

test("ALIGNPROP_ORT_THREADS sets the threads per session; a bad value is an error naming it", () => {
  assert.equal(ortThreads({ ALIGNPROP_ORT_THREADS: "3" }), 3);
  assert.ok(ortThreads({}) >= 1);
  assert.throws(() => ortThreads({ ALIGNPROP_ORT_THREADS: "0" }), /ALIGNPROP_ORT_THREADS="0" must be a positive integer/);
  assert.throws(() => ortThreads({ ALIGNPROP_ORT_THREADS: "two" }), /ALIGNPROP_ORT_THREADS="two"/);
  assert.throws(() => new SessionCache(0, 1), /capacity=0/);
});

test("ALIGNPROP_ORT_SPIN turns the pool's spinning during a run on (default) or off; a bad value is an error naming it", () => {
  assert.equal(ortSpinning({}), true);
  assert.equal(ortSpinning({ ALIGNPROP_ORT_SPIN: "1" }), true);
  assert.equal(ortSpinning({ ALIGNPROP_ORT_SPIN: "0" }), false);
  assert.throws(() => ortSpinning({ ALIGNPROP_ORT_SPIN: "yes" }), /ALIGNPROP_ORT_SPIN="yes" must be 0 \(pool threads sleep\) or 1 \(they spin during a run\)/);
  const session = (spinning: boolean) => new SessionCache(1, 2, spinning).options.extra?.session;
  assert.deepEqual(session(true), { intra_op: { allow_spinning: "1" }, force_spinning_stop: "1" });
  assert.deepEqual(session(false), { intra_op: { allow_spinning: "0" }, force_spinning_stop: "1" });
});
