/**
 * runJob with `engine: "torch"` (what `bench --compare ddpo --engine torch` and `bench --quickstart --engine torch`
 * run): the loop runs in the project's Python and each step comes back as the same record the TF.js loop makes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runJob, type StepRecord } from "../../src/bench/run-job.js";

const TINY = { engine: "torch", model: "tiny-shapes", sample_num_steps: 2, sample_batch_size: 2, train_batch_size: 1 };

test("a torch job runs in Python for the steps asked, one record per step as it goes", async () => {
  const seen: StepRecord[] = [];
  const run = await runJob({ ...TINY, algorithm: "ddpo" }, { steps: 2, onStep: (r) => seen.push(r) });
  assert.match(run.description, /^DDPO on tiny-shapes \(reward tiny-aesthetic; torch 2\.13\.0.* on (cpu|cuda)\)$/);
  assert.deepEqual(run.steps, seen);
  assert.deepEqual(run.steps.map((s) => s.samples), [4, 8], "two sampling batches of 2 per epoch");
  for (const s of run.steps) {
    assert.ok(s.stepSeconds > 0 && s.seconds >= s.stepSeconds && Number.isFinite(s.loss));
    assert.ok(s.rewardMax >= s.rewardMean, JSON.stringify(s));
  }
  assert.ok(run.peakRssMb > 0);
});

test("a torch job that fails says why", async () => {
  await assert.rejects(runJob({ ...TINY, reward: "no-such-reward" }, { steps: 1 }), /alignprop_torch\.bench_job ended with exit code 1 after 0 steps: .*no-such-reward/s);
});
