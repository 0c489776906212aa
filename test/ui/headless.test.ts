import assert from "node:assert/strict";
import { test } from "node:test";
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { EventSchema, LogLevel, RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { runHeadless } from "../../ui/headless.js";
import { pngOf } from "./events.js";
import { FakeController } from "./fake-controller.js";

function at(seq: number, payload: MessageInitShape<typeof EventSchema>["payload"]): Event {
  return create(EventSchema, { runId: "r1", seq, timeUnixMs: 1000 + seq, payload });
}

async function report(events: Event[], ending: "end" | Error = "end") {
  const controller = new FakeController();
  controller.push(...events);
  if (ending === "end") controller.end();
  else controller.breakWith(ending);
  let out = "";
  let err = "";
  const code = await runHeadless(controller, {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
  });
  return { code, out: out.split("\n").filter((line) => line !== ""), err };
}

test("headless mode writes one proto JSON line per event, with image bytes replaced by their length", async () => {
  const png = pngOf(1, 1, [[1, 2, 3]]);
  const { code, out } = await report([
    at(1, { case: "status", value: { state: RunState.RUNNING, step: 0, total: 2, backend: "cpu" } }),
    at(2, { case: "metrics", value: { step: 1, loss: -0.5, rewardMean: 0.5 } }),
    at(3, { case: "images", value: { step: 1, images: [{ png, prompt: "a circle", reward: 0.25, path: "images/step-1/0.png" }] } }),
    at(4, { case: "status", value: { state: RunState.DONE, step: 2, total: 2 } }),
  ]);
  assert.equal(code, 0);
  assert.deepEqual(out, [
    '{"runId":"r1","seq":1,"timeUnixMs":1001,"status":{"state":"RUN_STATE_RUNNING","total":2,"backend":"cpu"}}',
    '{"runId":"r1","seq":2,"timeUnixMs":1002,"metrics":{"step":1,"loss":-0.5,"rewardMean":0.5}}',
    `{"runId":"r1","seq":3,"timeUnixMs":1003,"images":{"step":1,"images":[{"pngBytes":${png.byteLength},"prompt":"a circle","reward":0.25,"path":"images/step-1/0.png"}]}}`,
    '{"runId":"r1","seq":4,"timeUnixMs":1004,"status":{"state":"RUN_STATE_DONE","step":2,"total":2}}',
  ]);
});

test("headless mode summarises state changes, every tenth step, checkpoints and warnings on stderr", async () => {
  const steps = Array.from({ length: 20 }, (_, i) =>
    at(10 + i, { case: "metrics", value: { step: i + 1, loss: -(i + 1) / 20, rewardMean: (i + 1) / 20, rewardStd: 0.1 } }),
  );
  const { code, err } = await report([
    at(1, { case: "status", value: { state: RunState.STARTING, total: 20, message: "loading tiny-shapes" } }),
    at(2, { case: "status", value: { state: RunState.RUNNING, total: 20 } }),
    at(3, { case: "status", value: { state: RunState.RUNNING, step: 0, total: 20 } }),
    at(4, { case: "log", value: { level: LogLevel.INFO, message: "quiet" } }),
    at(5, { case: "log", value: { level: LogLevel.WARN, message: "train_use_8bit_adam is ignored" } }),
    ...steps,
    at(40, { case: "checkpoint", value: { step: 20, path: "checkpoints/checkpoint_20" } }),
    at(41, { case: "status", value: { state: RunState.DONE, step: 20, total: 20 } }),
  ]);
  assert.equal(code, 0);
  assert.equal(
    err,
    [
      "state STARTING: loading tiny-shapes",
      "state RUNNING",
      "warning: train_use_8bit_adam is ignored",
      "step 10/20 loss -0.5 reward 0.5±0.1",
      "step 20/20 loss -1 reward 1±0.1",
      "checkpoint at step 20: checkpoints/checkpoint_20",
      "state DONE",
      "done: run r1 done at step 20/20",
      "",
    ].join("\n"),
  );
});

test("headless mode says how many processes train a data-parallel run, once", async () => {
  const { code, err } = await report([
    at(1, { case: "status", value: { state: RunState.STARTING, total: 1, worldSize: 2 } }),
    at(2, { case: "status", value: { state: RunState.RUNNING, total: 1, worldSize: 2 } }),
    at(3, { case: "status", value: { state: RunState.DONE, step: 1, total: 1, worldSize: 2 } }),
  ]);
  assert.equal(code, 0);
  assert.deepEqual(err.split("\n").slice(0, 3), ["state STARTING on 2 processes", "state RUNNING", "state DONE"]);
});

test("headless mode prints an algorithm's own values (Metrics.scalars) on the step lines and in the JSON lines", async () => {
  const { code, out, err } = await report([
    at(1, { case: "status", value: { state: RunState.RUNNING, step: 0, total: 1 } }),
    at(2, { case: "metrics", value: { step: 1, loss: 0.5, rewardMean: 0.5, scalars: { clip_fraction: 0.5, approx_kl: 0.002 } } }),
    at(3, { case: "status", value: { state: RunState.DONE, step: 1, total: 1 } }),
  ]);
  assert.equal(code, 0);
  assert.equal(JSON.parse(out[1]!).metrics.scalars.approx_kl, 0.002);
  assert.match(err, /^step 1\/1 loss 0\.5 reward 0\.5±0 {2}approx_kl 0\.002 {2}clip_fraction 0\.5$/m);
});

test("headless mode exits 1 with the error when the trainer process dies", async () => {
  const { code, out, err } = await report([
    at(1, { case: "status", value: { state: RunState.RUNNING, total: 5 } }),
    at(2, { case: "error", value: { message: "trainer exited", source: "process", exitCode: 9, stderrTail: "Killed\n" } }),
  ]);
  assert.equal(code, 1);
  assert.equal(out[1], '{"runId":"r1","seq":2,"timeUnixMs":1002,"error":{"message":"trainer exited","source":"process","exitCode":9,"stderrTail":"Killed\\n"}}');
  assert.match(err, /process error: trainer exited \(exit code 9\)\n {2}Killed\n/);
  assert.match(err, /\nfailed: run r1 RUNNING at step 0\/5 \(the error is above\)\n$/, "the error is printed once");
  assert.equal(err.match(/trainer exited/g)?.length, 1);
});

test("headless mode exits 1 when the run FAILED, the stream ends early, or the stream breaks", async () => {
  const failed = await report([at(1, { case: "status", value: { state: RunState.FAILED, message: "NaN loss" } })]);
  assert.equal(failed.code, 1);
  assert.match(failed.err, /failed: run failed: NaN loss\n$/);

  const early = await report([at(1, { case: "status", value: { state: RunState.RUNNING } })]);
  assert.equal(early.code, 1);
  assert.match(early.err, /failed: event stream ended while the run was RUNNING\n$/);

  const broken = await report([], new Error("socket closed"));
  assert.equal(broken.code, 1);
  assert.equal(broken.err, "failed: event stream failed: socket closed\n");
});

test("headless mode prints start-up progress once per tenth of a phase and per finished file, not per event", async () => {
  const MiB = 1024 * 1024;
  const chunk = (done: number, itemsDone: number) =>
    ({ case: "progress", value: { phase: "download", item: "unet.safetensors", done: done * MiB, total: 10 * MiB, unit: "bytes", rate: MiB, itemsDone, itemsTotal: 2 } }) as const;
  const { err, out } = await report([
    at(1, { case: "status", value: { state: RunState.STARTING, total: 5, message: "loading org/model" } }),
    at(2, chunk(0.1, 0)),
    at(3, chunk(0.5, 0)),
    at(4, chunk(1.2, 0)),
    at(5, chunk(1.5, 0)),
    at(6, chunk(10, 2)),
    at(7, { case: "status", value: { state: RunState.DONE, total: 5 } }),
  ]);
  assert.equal(out.filter((line) => line.includes('"progress"')).length, 5, "every progress event is on stdout");
  assert.deepEqual(err.split("\n").filter((line) => line.startsWith("download")), [
    "download unet.safetensors: 102.4 KiB / 10.0 MiB (0/2 files), 1.0 MiB/s, ETA 10s",
    "download unet.safetensors: 1.2 MiB / 10.0 MiB (0/2 files), 1.0 MiB/s, ETA 9s",
    "download unet.safetensors: 10.0 MiB / 10.0 MiB (2/2 files), 1.0 MiB/s, ETA 0s",
  ]);
});

test("a run that fails prints its error once: not again in the FAILED state line nor in the last line", async () => {
  const { code, err } = await report([
    at(1, { case: "status", value: { state: RunState.STARTING, total: 5 } }),
    at(2, { case: "error", value: { message: "unet weights: file is truncated", source: "trainer" } }),
    at(3, { case: "status", value: { state: RunState.FAILED, total: 5, message: "unet weights: file is truncated" } }),
  ]);
  assert.equal(code, 1);
  assert.equal(err, "state STARTING\ntrainer error: unet weights: file is truncated\nstate FAILED\nfailed: run r1 FAILED at step 0/5 (the error is above)\n");
});
