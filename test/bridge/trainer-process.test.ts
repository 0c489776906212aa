/**
 * Integration: the real trainer process (TF.js training) over real ZeroMQ sockets, driven by TrainerClient.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  checkpointNowWhilePausedSavesThere,
  lateAttachSeesEverySeqOnce,
  observerCommandsAreRefused,
  pauseHoldsThenResumesAndStops,
  sigkillEndsTheStreamWithAProcessError,
  sigtermStopsLikeTheStopCommand,
  tfjsEngine,
} from "../helpers/contract.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());
const spawn = tfjsEngine(runs);

test("pause holds the step count for 2 s without using CPU, resume continues, stop exits 0 with files written", async () => {
  const { trainer, steps } = await pauseHoldsThenResumesAndStops(spawn);
  const last = steps.at(-1)!;
  const dir = trainer.ready.runDir;
  assert.ok(existsSync(join(dir, "config.json")));
  const lines = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.filter((l) => l.metrics).length, steps.length, "every metrics event is in events.jsonl");
  assert.equal(lines.at(-1).status.state, "RUN_STATE_DONE");
  const imageDirs = readdirSync(join(dir, "images"));
  assert.ok(imageDirs.includes("step-5"), `images/step-5 written (have ${imageDirs})`);
  assert.equal(readFileSync(join(dir, "images", "step-5", "0.png")).subarray(1, 4).toString(), "PNG");
  assert.ok(existsSync(join(dir, "checkpoints", `checkpoint_${last}`, "model.safetensors")), "stop saved a checkpoint");
});

test("a client attaching mid-run gets the history then live events with no gap and no duplicate seq", async () => {
  await lateAttachSeesEverySeqOnce(spawn);
});

test("an observer's pause, stop and checkpoint_now are refused on the read-only endpoint and never reach the run", async () => {
  await observerCommandsAreRefused(spawn);
});

test("a trainer killed with SIGKILL ends the stream with a process error carrying the signal", async () => {
  await sigkillEndsTheStreamWithAProcessError(spawn);
});

test("SIGTERM stops the trainer like the stop command: it saves and exits 0", async () => {
  await sigtermStopsLikeTheStopCommand(spawn);
});

test("checkpoint_now while paused saves at once and reports the path", async () => {
  const { trainer, step } = await checkpointNowWhilePausedSavesThere(spawn);
  assert.ok(existsSync(join(trainer.ready.runDir, "checkpoints", `checkpoint_${step}`, "state.json")));
});
