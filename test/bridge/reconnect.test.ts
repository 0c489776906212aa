/**
 * Attach survives the network: a partition (no traffic) is noticed by heartbeats and healed by reconnecting, a reset
 * connection by ZeroMQ's own reconnect; either way the client catches up from a snapshot with no step lost or seen
 * twice. A trainer restarted from its checkpoint is followed too.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { TrainerClient } from "../../src/bridge/client.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { latestCheckpoint } from "../../src/run/index.js";
import { EventTap } from "../helpers/event-tap.js";
import { freePortTriple } from "../helpers/ports.js";
import { tempRuns } from "../helpers/runs.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

const runs = tempRuns();
after(() => runs.cleanup());

const note = (text: RegExp) => (e: Event) => e.seq === 0 && e.payload.case === "log" && text.test(e.payload.value.message);

async function setup(overrides: Record<string, string> = {}) {
  const port = await freePortTriple();
  const control = `tcp://127.0.0.1:${port}`;
  const endpoints = { control, ...companionEndpoints(control) };
  const run = runs.prepare({ num_epochs: "100000", ...overrides });
  const trainer = await runs.spawn({ configPath: run.configPath, endpoints });
  await trainer.client.close();
  const proxy = await TcpProxy.start("127.0.0.2", [port, port + 1, port + 2], "127.0.0.1");
  const client = await TrainerClient.connect(`tcp://127.0.0.2:${port}`, { reconnect: true, heartbeatMs: 200, deadAfterMs: 1000 });
  return { run, endpoints, trainer, proxy, client, tap: new EventTap(client) };
}

const contiguous = (steps: number[]) => steps.every((s, i) => s === steps[0]! + i);

test("a network partition is noticed by heartbeats, healed by reconnecting, and loses no step", async () => {
  const { trainer, proxy, client, tap } = await setup();
  try {
    await tap.untilStep(5);
    proxy.freeze();
    await tap.until(note(/no word from the trainer .* reconnecting/), "the client noticing the silence");
    proxy.thaw();
    await tap.until(note(/reconnected; catching up/), "the reconnection");
    const at = tap.metricsSteps().at(-1)!;
    await tap.untilStep(at + 5);
    proxy.drop(); // a hard reset too: ZeroMQ reconnects by itself, the seq gap is filled from a snapshot
    await tap.untilStep(at + 15);
    assert.equal((await client.stop()).ok, true);
    await tap.untilState(RunState.DONE);
    const steps = tap.metricsSteps();
    assert.ok(contiguous(steps) && steps[0] === 1, `steps 1..${steps.at(-1)} each once (got ${steps.length} for ${steps.at(-1)})`);
    assert.ok(client.reconnects >= 1);
    assert.equal((await trainer.exit).exitCode, 0);
  } finally {
    await client.close();
    await proxy.close();
  }
});

test("a trainer killed and resumed on the same endpoints is followed from its checkpoint", async () => {
  const { run, endpoints, trainer, proxy, client, tap } = await setup({ save_freq: "5" });
  try {
    await tap.until((e) => e.payload.case === "checkpoint" && e.payload.value.step === 10, "the checkpoint at step 10");
    trainer.process.kill("SIGKILL");
    await trainer.exit;
    await tap.until(note(/reconnecting/), "the client noticing the trainer is gone");
    const checkpoint = latestCheckpoint(run.runDir)!;
    const resumedAt = Number(/checkpoint_(\d+)$/.exec(checkpoint)![1]);
    const second = await runs.spawn({ configPath: run.configPath, endpoints, resume: checkpoint });
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
});
