import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { render } from "ink-testing-library";
import { RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { Header } from "../../ui/Header.js";
import { initialRunView, reduceRunView } from "../../ui/run-view.js";
import { metrics, status } from "./events.js";

const viewOf = (...events: Event[]) => events.reduce(reduceRunView, initialRunView);

test("the header shows run id, backend, state, step/total, epoch, ETA and samples per second", () => {
  const view = viewOf(
    status({ state: RunState.RUNNING, step: 10, total: 100, epoch: 2, backend: "wasm+ort" }),
    metrics({ step: 20, epoch: 2, stepSeconds: 2, samplesPerSecond: 3.5 }),
  );
  const { lastFrame, unmount } = render(<Header view={view} width={100} />);
  const frame = lastFrame() ?? "";
  assert.match(frame, /alignprop · run run-7 · backend wasm\+ort/);
  assert.match(frame, / RUNNING {3}step 20\/100 {2}epoch 2 {2}ETA 2m40s {2}3\.5 samples\/s/);
  unmount();
});

test("a data-parallel run shows its number of processes (Status.world_size); one process shows none", () => {
  const header = (...events: Event[]) => {
    const { lastFrame, unmount } = render(<Header view={viewOf(...events)} width={100} />);
    const frame = lastFrame() ?? "";
    unmount();
    return frame;
  };
  const two = header(status({ state: RunState.RUNNING, step: 1, total: 5, backend: "cpu", worldSize: 2 }));
  assert.match(two, /alignprop · run run-7 · backend cpu · 2 processes\n/);
  // A later status without the field (a trainer's message) keeps what the run said.
  assert.match(header(status({ state: RunState.RUNNING, worldSize: 2 }), status({ state: RunState.PAUSED })), / · 2 processes\n/);
  assert.doesNotMatch(header(status({ state: RunState.RUNNING, backend: "cpu", worldSize: 1 })), /process/);
});

test("a paused run says PAUSED in the header", () => {
  const view = viewOf(status({ state: RunState.PAUSED, step: 4, total: 50, message: "paused by user" }));
  const { lastFrame, unmount } = render(<Header view={view} width={100} />);
  assert.match(lastFrame() ?? "", /PAUSED {3}step 4\/50/);
  assert.match(lastFrame() ?? "", /paused by user/);
  unmount();
});

test("before any metrics the header shows unknown ETA and throughput", () => {
  const { lastFrame, unmount } = render(<Header view={initialRunView} width={100} />);
  assert.match(lastFrame() ?? "", /WAITING {3}step 0 {2}epoch 0 {2}ETA — {2}— samples\/s/);
  unmount();
});

test("an algorithm's own values (DDPO's approx_kl and clip_fraction) follow the throughput, by name", () => {
  const view = viewOf(
    status({ state: RunState.RUNNING, step: 3, total: 10 }),
    metrics({ step: 4, samplesPerSecond: 2, scalars: { clip_fraction: 0.25, approx_kl: 0.0125 } }),
  );
  const { lastFrame, unmount } = render(<Header view={view} width={120} />);
  assert.match(lastFrame() ?? "", /2 samples\/s {2}approx_kl 0\.0125 {2}clip_fraction 0\.25/);
  unmount();
});
