import assert from "node:assert/strict";
import { test } from "node:test";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { runOutcome } from "../../ui/outcome.js";
import { initialRunView, reduceRunView } from "../../ui/run-view.js";
import { error, status } from "./events.js";

test("a run that reached DONE succeeded", () => {
  const view = reduceRunView(initialRunView, status({ state: RunState.DONE, step: 5, total: 5 }));
  assert.deepEqual(runOutcome(view), { ok: true, summary: "run run-7 done at step 5/5" });
});

test("a FAILED run fails with the trainer's error when there is one, else its status message", () => {
  const failed = reduceRunView(initialRunView, status({ state: RunState.FAILED, message: "out of memory" }));
  assert.deepEqual(runOutcome(failed), { ok: false, summary: "run failed: out of memory" });
  const withError = reduceRunView(failed, error({ message: "NaN loss", source: "trainer" }));
  assert.deepEqual(runOutcome(withError), { ok: false, summary: "trainer error: NaN loss" });
});

test("a stream that stops before DONE, or throws, is a failure", () => {
  const running = reduceRunView(initialRunView, status({ state: RunState.RUNNING }));
  assert.deepEqual(runOutcome(running), { ok: false, summary: "event stream ended while the run was RUNNING" });
  assert.deepEqual(runOutcome(running, "socket closed"), { ok: false, summary: "event stream failed: socket closed" });
});
