import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { cleanup, render } from "ink-testing-library";
import { create } from "@bufbuild/protobuf";
import { CommandResultSchema, LogLevel, RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { App } from "../../ui/App.js";
import type { DashboardMode } from "../../ui/use-controls.js";
import { error, images, log, metrics, pngOf, status } from "./events.js";
import { FakeController } from "./fake-controller.js";
import { until, untilFrame } from "./wait.js";

const RIGHT = "\x1b[C";
const LEFT = "\x1b[D";

afterEach(cleanup);

function mount(mode: DashboardMode) {
  const controller = new FakeController();
  const exits: (Error | undefined)[] = [];
  const app = render(<App controller={controller} mode={mode} onExit={(e) => exits.push(e)} />);
  const frame = (): string => app.lastFrame() ?? "";
  const exited = () => until(() => exits.length > 0, () => `the app to exit; last frame:\n${frame()}`);
  const called = (count: number) =>
    until(() => controller.calls.length >= count, () => `${count} command(s); got ${controller.calls.join(", ")}`);
  return { controller, exits, app, frame, exited, called };
}

async function running(mode: DashboardMode = "train") {
  const m = mount(mode);
  m.controller.push(status({ state: RunState.RUNNING, step: 7, total: 40, epoch: 1, backend: "cpu" }));
  await untilFrame(m.app.lastFrame, "step 7/40");
  return m;
}

test("the dashboard header shows step/total and PAUSED when the run pauses", async () => {
  const { controller, app, frame } = await running();
  assert.match(frame(), /RUNNING {3}step 7\/40 {2}epoch 1/);
  controller.push(status({ state: RunState.PAUSED, step: 8, total: 40, epoch: 1 }));
  await untilFrame(app.lastFrame, "PAUSED");
  assert.match(frame(), /PAUSED {3}step 8\/40/);
});

test("p pauses a running run, then resumes it once paused, and logs each acknowledgement", async () => {
  const { controller, app, frame, called } = await running();
  app.stdin.write("p");
  await called(1);
  await untilFrame(app.lastFrame, "pause: paused (state PAUSED)");
  controller.push(status({ state: RunState.PAUSED, step: 7, total: 40 }));
  await untilFrame(app.lastFrame, " PAUSED ");
  app.stdin.write("p");
  await called(2);
  assert.deepEqual(controller.calls, ["pause", "resume"]);
  await untilFrame(app.lastFrame, "resume: resumed (state RUNNING)");
  assert.ok(frame().includes("resume: resumed"));
});

test("space toggles pause like p", async () => {
  const { controller, app, called } = await running();
  app.stdin.write(" ");
  await called(1);
  assert.deepEqual(controller.calls, ["pause"]);
});

test("a refused or failing command is shown in the log", async () => {
  const { controller, app, called } = await running();
  controller.answers.pause = async () => create(CommandResultSchema, { ok: false, message: "already stopping", state: RunState.STOPPING });
  controller.answers.checkpointNow = async () => {
    throw new Error("trainer not answering");
  };
  app.stdin.write("p");
  await called(1);
  await untilFrame(app.lastFrame, "error pause refused: already stopping (state STOPPING)");
  app.stdin.write("c");
  await called(2);
  await untilFrame(app.lastFrame, "error checkpoint failed: trainer not answering");
});

test("c asks for a checkpoint now", async () => {
  const { controller, app, called } = await running();
  app.stdin.write("c");
  await called(1);
  assert.deepEqual(controller.calls, ["checkpointNow"]);
  await untilFrame(app.lastFrame, "checkpoint: checkpoint queued");
});

test("q asks to confirm and y stops training", async () => {
  const { controller, app, called } = await running();
  app.stdin.write("q");
  await untilFrame(app.lastFrame, "Stop training? y/n");
  assert.deepEqual(controller.calls, []);
  app.stdin.write("y");
  await called(1);
  assert.deepEqual(controller.calls, ["stop"]);
});

test("q then n does not stop training", async () => {
  const { controller, app, frame } = await running();
  app.stdin.write("q");
  await untilFrame(app.lastFrame, "Stop training? y/n");
  app.stdin.write("n");
  await untilFrame(app.lastFrame, "stop cancelled");
  assert.ok(!frame().includes("Stop training?"));
  assert.deepEqual(controller.calls, []);
});

test("d in attach mode detaches without stopping and exits cleanly", async () => {
  const { controller, app, exits, exited } = await running("attach");
  app.stdin.write("d");
  await exited();
  assert.deepEqual(controller.calls, ["close"]);
  assert.deepEqual(exits, [undefined]);
});

test("d does nothing when the dashboard started the trainer", async () => {
  const { controller, app, called } = await running("train");
  app.stdin.write("d");
  app.stdin.write("c");
  await called(1);
  assert.deepEqual(controller.calls, ["checkpointNow"]);
});

test("ctrl+c stops a trainer the dashboard started, without asking, and is not mistaken for c", async () => {
  const { controller, app, called, frame } = await running("train");
  app.stdin.write("\x03");
  await called(1);
  assert.deepEqual(controller.calls, ["stop"]);
  assert.ok(!frame().includes("Stop training?"));
});

test("ctrl+c in attach mode detaches and leaves the trainer running", async () => {
  const { controller, app, exits, exited } = await running("attach");
  app.stdin.write("\x03");
  await exited();
  assert.deepEqual(controller.calls, ["close"]);
  assert.deepEqual(exits, [undefined]);
});

test("? opens the key help and ? closes it", async () => {
  const { app, frame } = await running("attach");
  app.stdin.write("?");
  await untilFrame(app.lastFrame, "detach: leave the trainer running");
  app.stdin.write("?");
  await until(() => !frame().includes("Keys"), () => `help to close:\n${frame()}`);
});

test("a run that reaches DONE shows it and exits without an error", async () => {
  const { controller, app, exits, exited } = await running();
  controller.push(status({ state: RunState.DONE, step: 40, total: 40 }));
  controller.end();
  await exited();
  assert.deepEqual(exits, [undefined]);
  assert.match(app.lastFrame() ?? "", /✔ run run-7 done at step 40\/40/);
});

test("when the trainer process dies the app shows the error and its stderr, and exits with an error", async () => {
  const { controller, app, exits, exited } = await running();
  controller.push(error({ message: "trainer exited", source: "process", exitCode: 134, stderrTail: "Aborted\nout of memory\n" }));
  controller.end();
  await exited();
  assert.equal(exits.length, 1);
  assert.ok(exits[0] instanceof Error);
  assert.equal(exits[0].message, "process error: trainer exited (exit code 134)");
  const frame = app.lastFrame() ?? "";
  assert.match(frame, /✖ failed: process error: trainer exited \(exit code 134\)/);
  assert.match(frame, / {2}Aborted\n {2}out of memory/);
});

test("a FAILED run and a stream that throws both exit with an error", async () => {
  const failed = await running();
  failed.controller.push(status({ state: RunState.FAILED, message: "reward was NaN" }));
  failed.controller.end();
  await failed.exited();
  assert.equal(failed.exits[0]?.message, "run failed: reward was NaN");

  const broken = await running();
  broken.controller.breakWith(new Error("socket closed"));
  await broken.exited();
  assert.equal(broken.exits[0]?.message, "event stream failed: socket closed");
});

test("keys do nothing once the run has ended", async () => {
  const { controller, app, exited } = await running();
  controller.push(status({ state: RunState.DONE, step: 40, total: 40 }));
  controller.end();
  await exited();
  app.stdin.write("p");
  app.stdin.write("c");
  await new Promise(setImmediate);
  assert.deepEqual(controller.calls, []);
});

test("the log pane shows trainer log lines, checkpoints and errors", async () => {
  const { controller, app } = await running();
  controller.push(log({ level: LogLevel.WARN, message: "tf32 is ignored on TF.js" }));
  await untilFrame(app.lastFrame, "warn  tf32 is ignored on TF.js");
});

test("the chart appears once metrics arrive", async () => {
  const { controller, app, frame } = await running();
  assert.match(frame(), /no data yet/);
  controller.push(
    metrics({ step: 1, loss: -0.5, rewardMean: 0.5, rewardStd: 0.1 }),
    metrics({ step: 2, loss: -0.6, rewardMean: 0.6, rewardStd: 0.1 }),
  );
  await untilFrame(app.lastFrame, "reward (mean ± std)  0.6");
  assert.match(frame(), /loss {2}-0\.6/);
});

test("← and → page through the images when they do not all fit", async () => {
  const { controller, app } = await running();
  const png = pngOf(40, 40, []);
  controller.push(images({ step: 3, images: Array.from({ length: 4 }, (_, i) => ({ png, prompt: `p${i}`, reward: i })) }));
  await untilFrame(app.lastFrame, "1–2 of 4");
  app.stdin.write(RIGHT);
  await untilFrame(app.lastFrame, "2–3 of 4");
  app.stdin.write(RIGHT);
  app.stdin.write(RIGHT);
  await untilFrame(app.lastFrame, "3–4 of 4");
  app.stdin.write(LEFT);
  await untilFrame(app.lastFrame, "2–3 of 4");
});

test("a narrow terminal drops the image pane, and widening it brings the pane back", async () => {
  const { controller, app, frame } = await running();
  controller.push(images({ step: 3, images: [{ png: pngOf(2, 2, []), prompt: "dot", reward: 1 }] }));
  await untilFrame(app.lastFrame, "dot | 1.000");
  Object.defineProperty(app.stdout, "columns", { configurable: true, value: 60 });
  app.stdout.emit("resize");
  await until(() => !frame().includes("dot | 1.000"), () => `image pane to go:\n${frame()}`);
  assert.match(frame(), /step 7\/40/);
  Object.defineProperty(app.stdout, "columns", { configurable: true, value: 120 });
  app.stdout.emit("resize");
  await untilFrame(app.lastFrame, "dot | 1.000");
});
