import assert from "node:assert/strict";
import { test } from "node:test";
import { LogLevel, RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import {
  appendLog,
  etaSeconds,
  initialRunView,
  MAX_LOG_LINES,
  MAX_METRIC_POINTS,
  reduceRunView,
  samplesPerSecond,
  type RunView,
} from "../../ui/run-view.js";
import { checkpoint, error, images, log, metrics, RUN_ID, status } from "./events.js";

const fold = (events: Event[], from: RunView = initialRunView): RunView => events.reduce(reduceRunView, from);

test("a status event sets the run's identity, progress and state, and logs the state change", () => {
  const view = fold([
    status({ state: RunState.RUNNING, step: 3, total: 100, epoch: 1, backend: "tensorflow", message: "go", runDir: "runs/a" }),
  ]);
  assert.equal(view.runId, RUN_ID);
  assert.equal(view.state, RunState.RUNNING);
  assert.deepEqual([view.step, view.total, view.epoch], [3, 100, 1]);
  assert.equal(view.backend, "tensorflow");
  assert.equal(view.message, "go");
  assert.equal(view.runDir, "runs/a");
  assert.deepEqual(view.logs, [{ level: LogLevel.INFO, text: "state RUNNING: go" }]);
});

test("a status event in the same state does not log again", () => {
  const view = fold([status({ state: RunState.RUNNING, step: 1 }), status({ state: RunState.RUNNING, step: 2 })]);
  assert.equal(view.step, 2);
  assert.equal(view.logs.length, 1);
});

test("reducing never mutates the previous view", () => {
  const before = fold([status({ state: RunState.RUNNING })]);
  const snapshot = structuredClone(before);
  fold([metrics({ step: 1 }), log({ message: "x" })], before);
  assert.deepEqual(before, snapshot);
});

test("metrics events append points, advance the step, and the history stays bounded", () => {
  const events = Array.from({ length: MAX_METRIC_POINTS + 5 }, (_, i) =>
    metrics({ step: i + 1, epoch: 2, loss: -i, rewardMean: i, rewardStd: 0.1, samplesPerSecond: 4, stepSeconds: 2 }),
  );
  const view = fold(events);
  assert.equal(view.metrics.length, MAX_METRIC_POINTS);
  assert.equal(view.metrics[0]?.step, 6);
  assert.equal(view.step, MAX_METRIC_POINTS + 5);
  assert.equal(view.epoch, 2);
});

test("the latest image batch replaces the previous one", () => {
  const view = fold([images({ step: 1 }), images({ step: 2, pixelsDropped: true })]);
  assert.equal(view.images?.step, 2);
  assert.equal(view.images?.pixelsDropped, true);
});

test("log events become log lines, one per text line, bounded to the newest", () => {
  const view = fold([log({ level: LogLevel.WARN, message: "one\ntwo" })]);
  assert.deepEqual(view.logs, [
    { level: LogLevel.WARN, text: "one" },
    { level: LogLevel.WARN, text: "two" },
  ]);
  let long = initialRunView;
  for (let i = 0; i < MAX_LOG_LINES + 3; i++) long = appendLog(long, LogLevel.INFO, `line ${i}`);
  assert.equal(long.logs.length, MAX_LOG_LINES);
  assert.equal(long.logs[0]?.text, "line 3");
});

test("an error event is kept as the final error and shown in the log", () => {
  const view = fold([
    error({ message: "trainer exited", source: "process", exitCode: 3, signal: "", stderrTail: "boom\n" }),
  ]);
  assert.deepEqual(view.error, { message: "trainer exited", source: "process", exitCode: 3, signal: "", stderrTail: "boom\n" });
  assert.deepEqual(view.logs, [{ level: LogLevel.ERROR, text: "process error: trainer exited (exit code 3)" }]);
});

test("a process killed by a signal is described by its signal, not exit code -1", () => {
  const view = fold([error({ message: "killed", source: "process", exitCode: -1, signal: "SIGKILL" })]);
  assert.equal(view.logs[0]?.text, "process error: killed (signal SIGKILL)");
});

test("a saved checkpoint is shown as a log line", () => {
  const view = fold([checkpoint({ step: 20, path: "checkpoints/checkpoint_20", reason: "requested" })]);
  assert.deepEqual(view.logs, [
    { level: LogLevel.INFO, text: "checkpoint saved at step 20: checkpoints/checkpoint_20 (requested)" },
  ]);
});

test("the ETA is the mean of recent step times times the steps left", () => {
  const view = fold([
    status({ state: RunState.RUNNING, total: 100 }),
    metrics({ step: 9, stepSeconds: 1 }),
    metrics({ step: 10, stepSeconds: 3 }),
  ]);
  assert.equal(etaSeconds(view), 2 * 90);
});

test("the ETA ignores non-finite step times and is unknown without any", () => {
  const base = fold([status({ state: RunState.RUNNING, total: 10 })]);
  assert.equal(etaSeconds(base), undefined);
  assert.equal(etaSeconds(fold([metrics({ step: 1, stepSeconds: Number.NaN })], base)), undefined);
  assert.equal(etaSeconds(fold([metrics({ step: 5, stepSeconds: 2 }), metrics({ step: 6, stepSeconds: Infinity })], base)), 8);
});

test("the ETA is zero once every step is done and unknown without a total", () => {
  assert.equal(etaSeconds(fold([status({ step: 10, total: 10 })])), 0);
  assert.equal(etaSeconds(fold([metrics({ step: 1, stepSeconds: 1 })])), undefined);
});

test("samples per second come from the latest metrics and are unknown when not finite", () => {
  assert.equal(samplesPerSecond(initialRunView), undefined);
  assert.equal(samplesPerSecond(fold([metrics({ samplesPerSecond: 2 }), metrics({ samplesPerSecond: 5.5 })])), 5.5);
  assert.equal(samplesPerSecond(fold([metrics({ samplesPerSecond: Number.NaN })])), undefined);
});

test("metrics from a restarted trainer replace the points of the steps it runs again", () => {
  let view = initialRunView;
  for (const step of [1, 2, 3, 4, 5, 3, 4]) view = reduceRunView(view, metrics({ step, loss: step === 3 && view.metrics.length === 5 ? -1 : 0 }));
  assert.deepEqual(view.metrics.map((m) => m.step), [1, 2, 3, 4]);
  assert.equal(view.metrics[2]!.loss, -1, "step 3 is the re-run's point");
});
