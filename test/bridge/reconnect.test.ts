/**
 * Attach survives the network: a partition (no traffic) is noticed by heartbeats and healed by reconnecting, a reset
 * connection by ZeroMQ's own reconnect; either way the client catches up from a snapshot with no step lost or seen
 * twice. A trainer restarted from its checkpoint is followed too.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { latestCheckpoint, type PreparedRun } from "../../src/run/index.js";
import { behindAProxy, contiguous, note, partitionAndResetLoseNoStep, tfjsEngine } from "../helpers/contract.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());

const spawn = tfjsEngine(runs);

test("a network partition is noticed by heartbeats, healed by reconnecting, and loses no step", async () => {
  await partitionAndResetLoseNoStep(spawn);
});

test("a trainer killed and resumed on the same endpoints is followed from its checkpoint", async () => {
  let run: PreparedRun | undefined;
  const { endpoints, trainer, proxy, client, tap } = await behindAProxy((overrides, opts) => {
    run = runs.prepare(overrides);
    return runs.spawn({ ...opts, configPath: run.configPath });
  }, { save_freq: "5" });
  try {
    await tap.until((e) => e.payload.case === "checkpoint" && e.payload.value.step === 10, "the checkpoint at step 10");
    trainer.process.kill("SIGKILL");
    await trainer.exit;
    await tap.until(note(/reconnecting/), "the client noticing the trainer is gone");
    const checkpoint = latestCheckpoint(run!.runDir)!;
    const resumedAt = Number(/checkpoint_(\d+)$/.exec(checkpoint)![1]);
    const second = await runs.spawn({ configPath: run!.configPath, endpoints, resume: checkpoint });
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
