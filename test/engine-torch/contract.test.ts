/**
 * The wire contract (test/helpers/contract.ts) on the real PyTorch trainer, AlignProp on tiny-shapes with the smallest
 * job it runs (TORCH_TINY: a two-step DDIM chain, batch 1, on the CPU, one OpenMP thread: 0.04-0.1 s a step on an idle
 * core, 0.2-0.8 s on this shared 2-core machine): every body the TF.js trainer and the Python wire demo pass, with step
 * counts sized for it. Most of the time is the 10 trainer start-ups (importing torch and diffusers, ~5 s CPU each).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { PROTOCOL_MAJOR, PROTOCOL_MINOR } from "../../src/bridge/protocol.js";
import {
  aClientCutOffWhenTheRunEndsStillGetsDone,
  aRestartedTrainerIsFollowedFromItsCheckpoint,
  checkpointNowWhilePausedSavesThere,
  fuzzedFramesLeaveTheTrainerServing,
  lateAttachSeesEverySeqOnce,
  observerCommandsAreRefused,
  partitionAndResetLoseNoStep,
  pauseHoldsThenResumesAndStops,
  sigkillEndsTheStreamWithAProcessError,
  sigtermStopsLikeTheStopCommand,
} from "../helpers/contract.js";
import { tempRuns } from "../helpers/runs.js";
import { torchEngine, torchRespawn } from "../bridge-python/python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());
const spawn = torchEngine(runs);

test("torch engine: hello carries the TS side's protocol version; pause holds for 2 s without CPU, resume continues, stop exits 0", async () => {
  const { trainer } = await pauseHoldsThenResumesAndStops(spawn);
  const hello = trainer.client.hello;
  assert.deepEqual([hello.protocolMajor, hello.protocolMinor], [PROTOCOL_MAJOR, PROTOCOL_MINOR]);
  assert.match(hello.agent, /python, torch/);
});

test("torch engine: a client attaching mid-run sees every seq once", async () => {
  await lateAttachSeesEverySeqOnce(spawn, {}, 12);
});

test("torch engine: checkpoint_now while paused saves at the paused step", async () => {
  await checkpointNowWhilePausedSavesThere(spawn);
});

test("torch engine: SIGTERM stops like the stop command with a final checkpoint", async () => {
  await sigtermStopsLikeTheStopCommand(spawn);
});

test("torch engine: SIGKILL ends the stream with a process error naming the signal", async () => {
  await sigkillEndsTheStreamWithAProcessError(spawn);
});

test("torch engine: an observer's commands are refused and never reach the run", async () => {
  await observerCommandsAreRefused(spawn);
});

test("torch engine: 2,000 fuzzed frames leave the trainer training, answering and counting them", async () => {
  await fuzzedFramesLeaveTheTrainerServing(spawn, 1_000);
});

test("torch engine: a partition and a reset lose no step", async () => {
  await partitionAndResetLoseNoStep(spawn, 8);
});

test("torch engine: a trainer killed and resumed on the same endpoints is followed from its checkpoint", async () => {
  await aRestartedTrainerIsFollowedFromItsCheckpoint(spawn, torchRespawn(runs), 2);
});

test("torch engine: a client cut off when another peer stops the run still gets DONE, and the trainer exits on its confirmation", async () => {
  await aClientCutOffWhenTheRunEndsStillGetsDone(spawn);
});
