/**
 * runJob with `engine: "torch"` (what `bench --compare ddpo --engine torch` and `bench --quickstart --engine torch`
 * run): the loop runs in the project's Python and each step comes back as the same record the TF.js loop makes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runJob, type EvalRecord, type StepRecord } from "../../src/bench/run-job.js";

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

test("with evaluate, a torch job evaluates the eval set at step 0, every eval_freq steps and after the last, as the TF.js loop does", async () => {
  const seen: EvalRecord[] = [];
  const run = await runJob({ ...TINY, eval_freq: 2 }, { steps: 3, evaluate: true, onEval: (r) => seen.push(r) });
  assert.deepEqual(run.evals, seen);
  assert.deepEqual(
    run.evals.map((e) => [e.step, e.samples]),
    [
      [0, 0],
      [2, 2],
      [3, 3],
    ],
  );
  for (const e of run.evals) {
    assert.ok(e.monitors.fidelity! >= 0 && e.monitors.fidelity! <= 1 && Number.isFinite(e.monitors.reward), JSON.stringify(e.monitors));
    assert.ok(e.passSeconds > 0);
  }
  assert.equal(run.evals[0]!.monitors.drift, 0, "step 0 is the base the drift is measured from");
  // The steps' clock leaves the passes out: by step 3 it holds the steps' own time, not the passes at 0 and 2 as well.
  const outsideSteps = run.steps[2]!.seconds - run.steps.reduce((sum, s) => sum + s.stepSeconds, 0);
  assert.ok(outsideSteps < (run.evals[0]!.passSeconds + run.evals[1]!.passSeconds) / 2, `${outsideSteps} s outside the steps`);
  assert.ok(Math.abs(run.evalSeconds - run.evals.reduce((sum, e) => sum + e.passSeconds, 0)) < 1e-9);
});
