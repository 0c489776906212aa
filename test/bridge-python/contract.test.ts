/**
 * The Python wire (python/alignprop_torch/wire/) behind the real TS client: the scripted demo run
 * (`python -m alignprop_torch.wire.demo`), spawned by `spawnTrainer` and driven by `TrainerClient` over real ZeroMQ
 * sockets, obeys the contract test/bridge/trainer-process.test.ts proves for the TF.js trainer.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { TrainerClient } from "../../src/bridge/client.js";
import { PROTOCOL_MAJOR } from "../../src/bridge/protocol.js";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import {
  checkpointNowWhilePausedSavesThere,
  lateAttachSeesEverySeqOnce,
  observerCommandsAreRefused,
  pauseHoldsThenResumesAndStops,
  sigkillEndsTheStreamWithAProcessError,
  sigtermStopsLikeTheStopCommand,
} from "../helpers/contract.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { pythonDemoEngine, spawnPythonDemo, tsJsonLine } from "./python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("hello names the Python trainer, the protocol major of the TS side and the bound events endpoint", async () => {
  const trainer = await spawnPythonDemo(runs, { num_epochs: "100000" });
  const hello = trainer.client.hello;
  assert.equal(hello.protocolMajor, PROTOCOL_MAJOR);
  assert.match(hello.agent, /python/);
  assert.equal(hello.runId, trainer.ready.runId);
  assert.equal(hello.eventsEndpoint, trainer.ready.events);
  assert.equal(hello.observeEndpoint, trainer.ready.observe);
  assert.match(trainer.ready.control, /^ipc:\/\//);
  assert.equal((await trainer.client.stop()).ok, true);
  assert.equal((await trainer.exit).exitCode, 0);
});

test("pause holds for 2 s without CPU and is idempotent, resume continues, stop exits 0, and events.jsonl is what the TS writer writes", async () => {
  const { trainer, tap } = await pauseHoldsThenResumesAndStops(pythonDemoEngine(runs));
  const seqs = tap.seqs();
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
  assert.ok(tap.events.some((e) => e.payload.case === "images" && e.payload.value.images[0]!.png.length > 0), "images carry PNG bytes");
  const lines = readFileSync(join(trainer.ready.runDir, "events.jsonl"), "utf8").trimEnd().split("\n");
  assert.deepEqual(lines, tap.events.map(tsJsonLine), "each line is byte for byte protobuf-es's toJsonString");
  assert.equal(JSON.parse(lines.at(-1)!).status.state, "RUN_STATE_DONE");
});

test("a client attaching mid-run gets the history then live events with no gap and no duplicate seq", async () => {
  const { first, second } = await lateAttachSeesEverySeqOnce(pythonDemoEngine(runs, 20), { log_image_freq: "1" });
  // The snapshot keeps the newest 4 image batches whole; older ones keep prompts and rewards but not PNG bytes.
  const batches = (tap: EventTap) => tap.events.flatMap((e) => (e.payload.case === "images" ? [e.payload.value] : []));
  const light = batches(second).filter((b) => b.pixelsDropped);
  assert.ok(light.length >= 16, `batches 1..16 at least came from the snapshot without pixels (${light.length})`);
  assert.deepEqual(light.map((b) => b.step), light.map((_, i) => i + 1));
  for (const b of light) assert.ok(b.images.every((i) => i.png.length === 0 && i.prompt.startsWith("demo prompt")));
  assert.ok(batches(first).every((b) => !b.pixelsDropped && b.images[0]!.png.length > 0), "live batches carry pixels");
  assert.ok(batches(second).slice(light.length).every((b) => b.images[0]!.png.length > 0));
});

test("an observer's pause is refused on the read-only endpoint and never reaches the run", async () => {
  await observerCommandsAreRefused(pythonDemoEngine(runs));
});

test("checkpoint_now while paused publishes the checkpoint at the paused step", async () => {
  await checkpointNowWhilePausedSavesThere(pythonDemoEngine(runs));
});

test("SIGTERM stops the Python trainer like the stop command: a final checkpoint, DONE, exit 0", async () => {
  await sigtermStopsLikeTheStopCommand(pythonDemoEngine(runs));
});

test("SIGTERM during a step longer than 5 s: the trainer finishes the step and exits 0; the spawner never force-kills it", async () => {
  const trainer = await pythonDemoEngine(runs, 6500)({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilState(RunState.RUNNING);
  trainer.process.kill("SIGTERM");
  await tap.untilState(RunState.DONE, 30_000);
  const exit = await trainer.exit;
  assert.deepEqual([exit.exitCode, exit.signal], [0, undefined], exit.stderrTail);
  assert.deepEqual(tap.metricsSteps(), [1], "the step under way when the signal came was finished, and no other");
});

test("a Python trainer killed with SIGKILL ends the stream with a process error carrying the signal", async () => {
  await sigkillEndsTheStreamWithAProcessError(pythonDemoEngine(runs));
});
