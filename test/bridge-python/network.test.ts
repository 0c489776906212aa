/**
 * The Python wire under a bad network and a stalled dashboard: heartbeats (snapshot requests) notice a partition,
 * the client reconnects and catches up; a reset connection leaves a gap in seq that a snapshot fills; a subscriber
 * that never reads slows nothing and costs the others nothing.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Subscriber } from "zeromq";
import { aClientCutOffWhenTheRunEndsStillGetsDone, partitionAndResetLoseNoStep } from "../helpers/contract.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { pythonDemoEngine, spawnPythonDemo } from "./python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("a partition is noticed by heartbeats and healed by reconnecting, and a reset's seq gap is filled: no step lost", async () => {
  await partitionAndResetLoseNoStep(pythonDemoEngine(runs, 10), 40);
});

test("a client cut off when another peer stops the run still gets DONE from the ended Python trainer, which exits on its confirmation", async () => {
  await aClientCutOffWhenTheRunEndsStillGetsDone(pythonDemoEngine(runs, 10));
});

test("a subscriber that never reads loses frames at its high-water mark, while another client misses no event", async () => {
  const steps = 600;
  const trainer = await spawnPythonDemo(runs, { num_epochs: String(steps), log_image_freq: "1", train_batch_size: "16" }, { stepMs: 1 });
  const frozen = new Subscriber({ receiveHighWaterMark: 4, receiveTimeout: 500 });
  frozen.subscribe();
  frozen.connect(trainer.ready.events);
  const tap = new EventTap(trainer.client);
  await tap.ended;
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, exit.stderrTail);
  assert.deepEqual(tap.metricsSteps(), Array.from({ length: steps }, (_, i) => i + 1));
  const seqs = tap.seqs();
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "every seq once, image batches included");
  let reachedFrozen = 0;
  try {
    for (;;) await frozen.receive(), reachedFrozen++;
  } catch {
    // The bounded receive timed out: nothing more was kept for the frozen subscriber.
  }
  frozen.close();
  process.stdout.write(`frozen subscriber received ${reachedFrozen} of ${seqs.length} frames\n`);
  assert.ok(reachedFrozen < seqs.length / 2, `the frozen subscriber got ${reachedFrozen} of ${seqs.length} frames: the rest were dropped, not waited for`);
});
