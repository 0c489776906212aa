/**
 * The wire contract as functions of the engine: each takes how to spawn a trainer for a run (config overrides +
 * spawn options) and proves one behaviour over real sockets against the real TrainerClient. test/bridge/ and
 * test/trainer/ run them on the TF.js trainer, test/bridge-python/ on the Python wire, test/engine-torch/ on the real
 * PyTorch trainer; a trainer that passes them speaks the protocol. Step counts are parameters where an engine's steps
 * are slow (the defaults suit the millisecond steps of TF.js and the Python demo).
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { Dealer, Subscriber, XSubscriber } from "zeromq";
import { TrainerClient } from "../../src/bridge/client.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { FINAL_GRACE_MS, decodeEvent, decodeResult, encodeCommand, newCommand } from "../../src/bridge/protocol.js";
import type { SpawnOptions, SpawnedTrainer } from "../../src/bridge/spawn.js";
import { PingSchema, RunState, StopSchema, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { latestCheckpoint, runFiles } from "../../src/run/index.js";
import { Rng } from "../../src/util/rng.js";
import { EventTap, cpuSeconds } from "./event-tap.js";
import { fuzzFrame } from "./fuzz-frames.js";
import { freePortTriple } from "./ports.js";
import type { TempRuns } from "./runs.js";
import { TcpProxy } from "./tcp-proxy.js";

/** Starts an engine's trainer on a fresh run with these config overrides. */
export type SpawnRun = (overrides: Record<string, string>, opts?: Omit<SpawnOptions, "configPath">) => Promise<SpawnedTrainer>;
/** Starts an engine's trainer again on an existing run (its config.json), e.g. with `resume`. */
export type RespawnRun = (configPath: string, opts?: Omit<SpawnOptions, "configPath">) => Promise<SpawnedTrainer>;

/** The TF.js trainer (spawnTrainer's default command) on a run in `runs`. */
export const tfjsRespawn =
  (runs: TempRuns): RespawnRun =>
  (configPath, opts) =>
    runs.spawn({ ...opts, configPath });

/** The TF.js trainer on runs prepared in `runs`. */
export const tfjsEngine =
  (runs: TempRuns): SpawnRun =>
  (overrides, opts) =>
    tfjsRespawn(runs)(runs.prepare(overrides).configPath, opts);

export const contiguous = (xs: number[]) => xs.every((x, i) => x === xs[0]! + i);
/** A note the client itself adds to the stream (seq 0). */
export const note = (text: RegExp) => (e: Event) => e.seq === 0 && e.payload.case === "log" && text.test(e.payload.value.message);

/**
 * A `steps`-step run; a second client attaches a third of the way in and must see exactly what the first saw.
 * Returns both taps.
 */
export async function lateAttachSeesEverySeqOnce(spawn: SpawnRun, overrides: Record<string, string> = {}, steps = 60) {
  const trainer = await spawn({ num_epochs: String(steps), ...overrides });
  const first = new EventTap(trainer.client);
  await first.untilStep(Math.floor(steps / 3));
  const late = await TrainerClient.connect(trainer.ready.control);
  const second = new EventTap(late);
  await Promise.all([first.ended, second.ended]);
  assert.equal((await trainer.exit).exitCode, 0);
  const seqs = second.seqs();
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seq runs 1, 2, 3, … with no gap or repeat");
  assert.deepEqual(seqs, first.seqs(), "the late client saw exactly what the first one saw");
  assert.deepEqual(second.metricsSteps(), Array.from({ length: steps }, (_, i) => i + 1));
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

/**
 * An observer (read-only endpoint) has pause, stop and checkpoint_now refused and counted, never reaching the run;
 * its read-only commands are answered.
 */
export async function observerCommandsAreRefused(spawn: SpawnRun): Promise<void> {
  const trainer = await spawn({ num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  const observer = await TrainerClient.connect(trainer.ready.control, { observer: true });
  const watched = new EventTap(observer);
  await watched.untilStep(3);
  for (const refused of [await observer.pause(), await observer.stop(), await observer.checkpointNow()]) {
    assert.equal(refused.ok, false);
    assert.match(refused.message, /refused: this is the read-only observer endpoint/);
  }
  assert.equal((await observer.ping()).ok, true, "read-only commands are answered");
  const at = tap.metricsSteps().at(-1)!;
  await tap.untilStep(at + 3);
  assert.ok(!tap.events.some((e) => e.payload.case === "status" && e.payload.value.state === RunState.PAUSED), "never paused");
  const snapshot = await observer.snapshot(tap.events.at(-1)!.seq);
  assert.equal(snapshot.badFrames, 3, "each refused command is counted");
  await observer.close();
  assert.equal((await trainer.client.stop()).ok, true);
  assert.equal((await trainer.exit).exitCode, 0);
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

/**
 * The final grace: a client cut off from the trainer when the run ends (the frames sent meanwhile lost with the
 * connections) still gets DONE and every seq once it reconnects, and the trainer exits 0 on its confirmation, well inside the grace. Another peer stops the run from bare
 * sockets (a Dealer for the command, a Subscriber to see DONE go out), which confirm nothing: only the cut-off client
 * can end the grace early.
 */
export async function aClientCutOffWhenTheRunEndsStillGetsDone(spawn: SpawnRun): Promise<void> {
  const { endpoints, trainer, proxy, client, tap } = await behindAProxy(spawn);
  const watcher = new Subscriber({ linger: 0 });
  const stopper = new Dealer({ linger: 0 });
  try {
    await tap.untilStep(3);
    watcher.connect(endpoints.events);
    watcher.subscribe("status");
    proxy.freeze();
    await tap.until(note(/no word from the trainer .* reconnecting/), "the client noticing the silence");
    stopper.connect(endpoints.control);
    await stopper.send(encodeCommand(newCommand("stop-from-elsewhere", { case: "stop", value: create(StopSchema) })));
    const [answer] = await stopper.receive();
    const stopped = decodeResult(answer);
    assert.ok(stopped.ok && stopped.value.ok, `the other peer's stop was taken: ${JSON.stringify(stopped)}`);
    for await (const [, frame] of watcher) {
      const event = decodeEvent(frame);
      if (event.ok && event.value.payload.case === "status" && event.value.payload.value.state === RunState.DONE) break;
    }
    const doneAt = Date.now();
    assert.ok(!tap.events.some((e) => e.payload.case === "status" && e.payload.value.state === RunState.DONE), "DONE went out while the client was cut off");
    // The frames held in the partition are lost with its connections: the client can only learn of DONE by asking.
    proxy.drop();
    proxy.thaw();
    await tap.untilState(RunState.DONE, 20_000);
    const exit = await trainer.exit;
    assert.equal(exit.exitCode, 0);
    assert.ok(Date.now() - doneAt < FINAL_GRACE_MS, "the trainer ended on the client's confirmation, inside its grace");
    const seqs = tap.events.filter((e) => e.seq > 0).map((e) => e.seq);
    assert.ok(contiguous(seqs) && seqs[0] === 1, `every seq once, up to DONE (got ${seqs.length} for ${seqs.at(-1)})`);
    const steps = tap.metricsSteps();
    assert.ok(contiguous(steps) && steps[0] === 1, "every step once");
  } finally {
    watcher.close();
    stopper.close();
    await client.close();
    await proxy.close();
  }
}

/**
 * A trainer killed (SIGKILL) after its checkpoint at step 2×`saveFreq` and resumed from it on the same tcp endpoints is
 * followed by the reconnecting client: the first step after the restart is the one after the checkpoint.
 */
export async function aRestartedTrainerIsFollowedFromItsCheckpoint(spawn: SpawnRun, respawn: RespawnRun, saveFreq = 5): Promise<void> {
  const { endpoints, trainer, proxy, client, tap } = await behindAProxy(spawn, { save_freq: String(saveFreq) });
  try {
    await tap.until((e) => e.payload.case === "checkpoint" && e.payload.value.step === 2 * saveFreq, `the checkpoint at step ${2 * saveFreq}`);
    trainer.process.kill("SIGKILL");
    await trainer.exit;
    await tap.until(note(/reconnecting/), "the client noticing the trainer is gone");
    const checkpoint = latestCheckpoint(trainer.ready.runDir)!;
    const resumedAt = Number(/checkpoint_(\d+)$/.exec(checkpoint)![1]);
    const second = await respawn(runFiles(trainer.ready.runDir).config, { endpoints, resume: checkpoint });
    await second.client.close();
    await tap.until(note(/the trainer restarted/), "the client following the new process");
    await tap.untilStep(resumedAt + 3);
    const restart = tap.events.findIndex(note(/the trainer restarted/));
    const after = tap.events.slice(restart).flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value.step] : []));
    assert.equal(after[0], resumedAt + 1, "the first step after the restart is the one after the checkpoint");
    assert.ok(contiguous(after));
    assert.equal((await client.stop()).ok, true);
    await tap.untilState(RunState.DONE);
    assert.equal((await second.exit).exitCode, 0);
  } finally {
    await client.close();
    await proxy.close();
  }
}

/** A trainer held in STARTING (its model's download stalled) until `release()`; `tap` has seen it loading. */
export interface StalledStart {
  trainer: SpawnedTrainer;
  tap: EventTap;
  release: () => void;
}

const statesOf = (events: Event[]) => events.flatMap((e) => (e.payload.case === "status" ? [e.payload.value.state] : []));

/**
 * Start-up is a state: while loading, the trainer is STARTING (ping, snapshot), refuses checkpoint_now naming why,
 * takes pause (idempotently) to hold before step 1; once loaded it reports loading every component (`components`:
 * the networks and the reward), pauses at step 0, resumes, trains and stops DONE with exit 0.
 */
export async function whileLoadingPauseHoldsBeforeStep1(stalled: StalledStart, components = 4): Promise<void> {
  const { trainer, tap, release } = stalled;
  assert.deepEqual(statesOf(tap.events), [RunState.STARTING]);
  const ping = await trainer.client.ping();
  assert.equal(ping.state, RunState.STARTING);
  const snapshot = await trainer.client.snapshot();
  assert.equal(snapshot.status?.state, RunState.STARTING);
  assert.ok(snapshot.events.some((e) => e.payload.case === "progress"), "a late client sees the progress so far");

  const checkpoint = await trainer.client.checkpointNow();
  assert.equal(checkpoint.ok, false);
  assert.match(checkpoint.message, /no checkpoint while loading: nothing has been trained yet/);
  const pause = await trainer.client.pause();
  assert.equal(pause.ok, true);
  assert.equal(pause.state, RunState.STARTING);
  assert.match(pause.message, /will pause before step 1/);
  assert.equal((await trainer.client.pause()).ok, true, "pause is idempotent while loading");

  release();
  const paused = await tap.untilState(RunState.PAUSED);
  assert.equal(paused.payload.case === "status" && paused.payload.value.step, 0, "paused before the first step");
  assert.deepEqual(tap.metricsSteps(), []);
  const loaded = tap.events.filter((e) => e.payload.case === "progress" && e.payload.value.phase === "load").at(-1)?.payload.value;
  assert.ok(loaded && "itemsDone" in loaded && loaded.itemsDone === components && loaded.itemsTotal === components, "loading progress up to the reward");
  assert.deepEqual(statesOf(tap.events), [RunState.STARTING, RunState.RUNNING, RunState.PAUSED]);

  await trainer.client.resume();
  await tap.untilStep(1);
  await trainer.client.stop();
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  assert.ok(existsSync(runFiles(trainer.ready.runDir).checkpoints), "a run that trained saves its final checkpoint");
}

/** stop while loading ends the run at once: exit 0, DONE, no step trained, no checkpoint, a complete events log. */
export async function stopWhileLoadingEndsTheRunBeforeStep1(stalled: StalledStart): Promise<void> {
  const { trainer, tap, release } = stalled;
  const stop = await trainer.client.stop();
  assert.equal(stop.ok, true);
  assert.match(stop.message, /stopping while loading/);
  const done = await tap.untilState(RunState.DONE);
  assert.match(done.payload.case === "status" ? done.payload.value.message : "", /stopped before step 1: nothing was trained/);
  assert.equal((await trainer.exit).exitCode, 0, "the stalled download does not hold the process");
  release();
  assert.deepEqual(statesOf(tap.events), [RunState.STARTING, RunState.STOPPING, RunState.DONE]);
  assert.deepEqual(tap.metricsSteps(), []);
  const files = runFiles(trainer.ready.runDir);
  assert.equal(existsSync(files.checkpoints), false);
  assert.equal(existsSync(files.loraWeights), false);
  const logged = readFileSync(files.events, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { status?: { state: string } });
  assert.equal(logged.at(-1)!.status!.state, "RUN_STATE_DONE", "the events log is complete");
}

/** SIGTERM while loading stops the run like the stop command: DONE, exit 0. */
export async function sigtermWhileLoadingStopsTheRun(stalled: StalledStart): Promise<void> {
  const { trainer, tap, release } = stalled;
  trainer.process.kill("SIGTERM");
  await tap.untilState(RunState.DONE);
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, `${exit.signal ?? ""} ${exit.stderrTail}`);
  release();
}
