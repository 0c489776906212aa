/**
 * Faults: a trainer killed with SIGKILL resumes from its last checkpoint and ends with exactly the losses of an
 * uninterrupted run; events.jsonl has every event once (a torn last line is repaired); killing during checkpoint
 * saves never leaves a broken newest checkpoint.
 */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { prepareRun } from "../../src/run/index.js";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { latestCheckpoint, loadCheckpoint } from "../../src/run/index.js";
import { Rng } from "../../src/util/rng.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());
const config = { num_epochs: "16", save_freq: "5", seed: "3" };

type Line = { seq: number; metrics?: { step: number; loss: number } };
const readLog = (runDir: string) =>
  readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);

async function runToEnd(configPath: string, resume?: string) {
  const trainer = await runs.spawn({ configPath, resume });
  const tap = new EventTap(trainer.client);
  await tap.ended;
  assert.equal((await trainer.exit).exitCode, 0);
  return tap;
}

test("after kill -9 a resumed run continues from its checkpoint and matches an uninterrupted run exactly", async () => {
  const straight = runs.prepare(config);
  await runToEnd(straight.configPath);
  const expected = readLog(straight.runDir).flatMap((l) => (l.metrics ? [[l.metrics.step, l.metrics.loss]] : []));
  assert.equal(expected.length, 16);

  const crashed = runs.prepare(config);
  const trainer = await runs.spawn({ configPath: crashed.configPath });
  const tap = new EventTap(trainer.client);
  await tap.until((e) => e.payload.case === "checkpoint" && e.payload.value.step === 5, "the checkpoint at step 5");
  await trainer.client.pause();
  const paused = await tap.untilState(RunState.PAUSED);
  assert.ok(paused.payload.case === "status" && paused.payload.value.step > 5 && paused.payload.value.step < 10);
  trainer.process.kill("SIGKILL");
  assert.equal((await trainer.exit).signal, "SIGKILL");
  appendFileSync(join(crashed.runDir, "events.jsonl"), '{"runId":"torn","seq":99999,"metr'); // a torn write

  const resumed = prepareRun(undefined, { resume_from: crashed.runDir });
  assert.equal(resumed.checkpoint, join(crashed.runDir, "checkpoints", "checkpoint_5"));
  const second = await runToEnd(resumed.configPath, resumed.checkpoint);
  assert.equal(second.metricsSteps()[0], 6, "the resumed process starts at the step after the checkpoint");

  const log = readLog(crashed.runDir);
  const seqs = log.map((l) => l.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "seq only grows");
  assert.equal(new Set(seqs).size, seqs.length, "no duplicated event");
  const got = log.flatMap((l) => (l.metrics ? [[l.metrics.step, l.metrics.loss]] : []));
  assert.deepEqual(got, expected, "every step once, with the uninterrupted run's loss, bit for bit");
});

test("kill -9 at random moments during frequent checkpoint saves always leaves a loadable newest checkpoint", async () => {
  const rng = new Rng(11);
  for (let round = 0; round < 3; round++) {
    const run = runs.prepare({ num_epochs: "100000", save_freq: "1", num_checkpoint_limit: "3" });
    const trainer = await runs.spawn({ configPath: run.configPath });
    const tap = new EventTap(trainer.client);
    await tap.untilStep(2 + rng.int(8));
    trainer.process.kill("SIGKILL");
    await trainer.exit;
    const newest = latestCheckpoint(run.runDir);
    assert.ok(newest, "a checkpoint survived");
    const { state, tensors } = await loadCheckpoint(newest);
    assert.ok(state.step >= 1 && Object.keys(tensors).length > 0);
    const complete = readdirSync(join(run.runDir, "checkpoints")).filter((d) => d.startsWith("checkpoint_"));
    for (const dir of complete) await loadCheckpoint(join(run.runDir, "checkpoints", dir));
  }
});

test("resuming names what is wrong: a missing directory, a run without checkpoints", () => {
  assert.throws(() => prepareRun(undefined, { resume_from: join(runs.dir, "nope") }), /resume_from: ".*nope": no such directory/);
  const fresh = runs.prepare({});
  assert.throws(() => prepareRun(undefined, { resume_from: fresh.runDir }), /has no checkpoint yet/);
});
