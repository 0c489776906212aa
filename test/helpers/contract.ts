/**
 * The wire contract as functions of the engine: each takes how to spawn a trainer for a run (config overrides +
 * spawn options) and proves one behaviour over real sockets against the real TrainerClient. test/bridge/ runs them
 * on the TF.js trainer, test/bridge-python/ on the Python wire; a trainer that passes them speaks the protocol.
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { Dealer, XSubscriber } from "zeromq";
import { TrainerClient } from "../../src/bridge/client.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { decodeResult, encodeCommand, newCommand } from "../../src/bridge/protocol.js";
import type { SpawnOptions, SpawnedTrainer } from "../../src/bridge/spawn.js";
import { PingSchema, RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { Rng } from "../../src/util/rng.js";
import { EventTap, cpuSeconds } from "./event-tap.js";
import { fuzzFrame } from "./fuzz-frames.js";
import { freePortTriple } from "./ports.js";
import type { TempRuns } from "./runs.js";
import { TcpProxy } from "./tcp-proxy.js";

/** Starts an engine's trainer on a fresh run with these config overrides. */
export type SpawnRun = (overrides: Record<string, string>, opts?: Omit<SpawnOptions, "configPath">) => Promise<SpawnedTrainer>;

/** The TF.js trainer (spawnTrainer's default command) on runs prepared in `runs`. */
export const tfjsEngine =
  (runs: TempRuns): SpawnRun =>
  (overrides, opts) =>
    runs.spawn({ ...opts, configPath: runs.prepare(overrides).configPath });

export const contiguous = (xs: number[]) => xs.every((x, i) => x === xs[0]! + i);
/** A note the client itself adds to the stream (seq 0). */
export const note = (text: RegExp) => (e: Event) => e.seq === 0 && e.payload.case === "log" && text.test(e.payload.value.message);

/** A 60-step run; a second client attaches at step 20 and must see exactly what the first saw. Returns both taps. */
export async function lateAttachSeesEverySeqOnce(spawn: SpawnRun, overrides: Record<string, string> = {}) {
  const trainer = await spawn({ num_epochs: "60", ...overrides });
  const first = new EventTap(trainer.client);
  await first.untilStep(20);
  const late = await TrainerClient.connect(trainer.ready.control);
  const second = new EventTap(late);
  await Promise.all([first.ended, second.ended]);
  assert.equal((await trainer.exit).exitCode, 0);
  const seqs = second.seqs();
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seq runs 1, 2, 3, … with no gap or repeat");
  assert.deepEqual(seqs, first.seqs(), "the late client saw exactly what the first one saw");
  assert.deepEqual(second.metricsSteps(), Array.from({ length: 60 }, (_, i) => i + 1));
  return { first, second };
}

/**
 * Pause at a step boundary holds the step count for 2 s with no CPU and is idempotent; resume continues; stop ends
 * DONE with exit 0 and steps 1..N each once. Returns the trainer and tap for the engine's own file checks.
 */
export async function pauseHoldsThenResumesAndStops(spawn: SpawnRun) {
  const trainer = await spawn({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(3);

  const ack = await trainer.client.pause();
  assert.equal(ack.ok, true, ack.message);
  const paused = await tap.untilState(RunState.PAUSED);
  const pausedAt = paused.payload.case === "status" ? paused.payload.value.step : -1;
  const again = await trainer.client.pause();
  assert.equal(again.ok, true, "pausing a paused run is fine");
  assert.equal(again.state, RunState.PAUSED);
  assert.equal(again.message, "already paused");

  const cpuBefore = cpuSeconds(trainer.ready.pid);
  const metricsBefore = tap.metricsSteps().length;
  // The one place a test watches the clock: the requirement itself is "nothing happens for 2 s".
  await new Promise((resolve) => setTimeout(resolve, 2000));
  assert.equal(tap.metricsSteps().length, metricsBefore, "no step ran while paused");
  assert.equal(Math.max(...tap.metricsSteps()), pausedAt);
  assert.ok(cpuSeconds(trainer.ready.pid) - cpuBefore < 0.3, "a paused trainer does not spin");

  const resumed = await trainer.client.resume();
  assert.equal(resumed.ok, true, resumed.message);
  assert.equal(resumed.state, RunState.RUNNING);
  await tap.untilStep(pausedAt + 2);

  const stop = await trainer.client.stop();
  assert.equal(stop.ok, true, stop.message);
  await tap.untilState(RunState.DONE);
  await tap.ended;
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, exit.stderrTail);
  const steps = tap.metricsSteps();
  assert.deepEqual(steps, steps.map((_, i) => i + 1), "steps continue where the pause left them");
  return { trainer, tap, steps };
}

/** SIGTERM stops the trainer like the stop command: it says so, saves a final checkpoint, ends DONE and exits 0. */
export async function sigtermStopsLikeTheStopCommand(spawn: SpawnRun): Promise<void> {
  const trainer = await spawn({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  trainer.process.kill("SIGTERM");
  await tap.untilState(RunState.DONE);
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, exit.stderrTail);
  assert.match(exit.stderrTail, /SIGTERM: stopping after the current step/);
  assert.ok(tap.events.some((e) => e.payload.case === "checkpoint" && e.payload.value.reason === "final"));
}

/** checkpoint_now while paused saves at the paused step (reason "requested"); returns the run and that step. */
export async function checkpointNowWhilePausedSavesThere(spawn: SpawnRun) {
  const trainer = await spawn({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  await trainer.client.pause();
  const paused = await tap.untilState(RunState.PAUSED);
  const step = paused.payload.case === "status" ? paused.payload.value.step : -1;
  assert.equal((await trainer.client.checkpointNow()).ok, true);
  const saved = await tap.until((e) => e.payload.case === "checkpoint", "checkpoint saved");
  assert.ok(saved.payload.case === "checkpoint" && saved.payload.value.step === step && saved.payload.value.reason === "requested");
  await trainer.client.stop();
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  return { trainer, step };
}

export async function sigkillEndsTheStreamWithAProcessError(spawn: SpawnRun): Promise<void> {
  const trainer = await spawn({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  trainer.process.kill("SIGKILL");
  await tap.ended;
  const last = tap.events.at(-1)!;
  assert.equal(last.payload.case, "error");
  if (last.payload.case !== "error") return;
  assert.equal(last.payload.value.source, "process");
  assert.equal(last.payload.value.signal, "SIGKILL");
  assert.equal(last.payload.value.exitCode, -1);
  assert.match(last.payload.value.message, /killed by SIGKILL/);
}

/**
 * `framesPerSocket` fuzzed frames on the control and observe sockets and random subscriptions on the events socket;
 * afterwards the trainer still trains and answers, and it counted what it refused.
 */
export async function fuzzedFramesLeaveTheTrainerServing(spawn: SpawnRun, framesPerSocket: number): Promise<void> {
  const trainer = await spawn({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  const rng = new Rng(1234);
  for (const endpoint of [trainer.ready.control, trainer.ready.observe]) {
    const peer = new Dealer({ linger: 0, receiveHighWaterMark: 0 });
    peer.connect(endpoint);
    // One connection is served in order: once the answer to a final ping arrives, every fuzzed frame before it has
    // been handled (answers to them may be shed under load — the trainer never waits for a slow client).
    const answered = (async () => {
      for await (const [frame] of peer) {
        const reply = decodeResult(frame);
        if (reply.ok && reply.value.id === "after-fuzz") return reply.value;
      }
      throw new Error("the socket closed before the final ping was answered");
    })();
    for (let i = 0; i < framesPerSocket; i++) await peer.send(fuzzFrame(rng));
    await peer.send(encodeCommand(newCommand("after-fuzz", { case: "ping", value: create(PingSchema) })));
    assert.equal((await answered).ok, true, "the trainer still answers on the fuzzed socket");
    peer.close();
  }
  const subscriber = new XSubscriber({ linger: 0 });
  subscriber.connect(trainer.ready.events);
  for (let i = 0; i < 500; i++) await subscriber.send(Uint8Array.from({ length: 1 + rng.int(20) }, () => rng.int(256)));
  subscriber.close();

  // Some fuzzed frames are still valid pauses (the seed is fixed, so the run is deterministic): resume.
  await trainer.client.resume();
  await tap.untilStep(tap.metricsSteps().at(-1)! + 3);
  assert.equal((await trainer.client.ping()).ok, true);
  const snapshot = await trainer.client.snapshot(tap.events.at(-1)!.seq);
  assert.ok(snapshot.badFrames > framesPerSocket / 5, `the trainer counted ${snapshot.badFrames} refused frames`);
  assert.equal((await trainer.client.stop()).ok, true);
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  const steps = tap.metricsSteps();
  assert.deepEqual(steps, steps.map((_, i) => i + 1), "no step lost or repeated");
}

/** A trainer on tcp behind a proxy that can cut the network, and a reconnecting client watching it through it. */
export async function behindAProxy(spawn: SpawnRun, overrides: Record<string, string> = {}) {
  const port = await freePortTriple();
  const control = `tcp://127.0.0.1:${port}`;
  const endpoints = { control, ...companionEndpoints(control) };
  const trainer = await spawn({ num_epochs: "100000", ...overrides }, { endpoints });
  await trainer.client.close();
  const proxy = await TcpProxy.start("127.0.0.2", [port, port + 1, port + 2], "127.0.0.1");
  const client = await TrainerClient.connect(`tcp://127.0.0.2:${port}`, { reconnect: true, heartbeatMs: 200, deadAfterMs: 1000 });
  return { endpoints, trainer, proxy, client, tap: new EventTap(client) };
}

/** A partition is noticed by heartbeats and healed by reconnecting; a reset's seq gap is filled from a snapshot. */
export async function partitionAndResetLoseNoStep(spawn: SpawnRun, stepsAfterReset = 15): Promise<void> {
  const { trainer, proxy, client, tap } = await behindAProxy(spawn);
  try {
    await tap.untilStep(5);
    proxy.freeze();
    await tap.until(note(/no word from the trainer .* reconnecting/), "the client noticing the silence");
    proxy.thaw();
    await tap.until(note(/reconnected; catching up/), "the reconnection");
    const at = tap.metricsSteps().at(-1)!;
    await tap.untilStep(at + 5);
    proxy.drop(); // a hard reset too: ZeroMQ reconnects by itself, the seq gap is filled from a snapshot
    await tap.untilStep(at + stepsAfterReset);
    assert.equal((await client.stop()).ok, true);
    await tap.untilState(RunState.DONE);
    const steps = tap.metricsSteps();
    assert.ok(contiguous(steps) && steps[0] === 1, `steps 1..${steps.at(-1)} each once (got ${steps.length} for ${steps.at(-1)})`);
    const seqs = tap.events.filter((e) => e.seq > 0).map((e) => e.seq);
    assert.ok(contiguous(seqs) && seqs[0] === 1, "every seq once");
    assert.ok(client.reconnects >= 1);
    assert.equal((await trainer.exit).exitCode, 0);
  } finally {
    await client.close();
    await proxy.close();
  }
}
