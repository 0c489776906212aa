import assert from "node:assert/strict";
import { test } from "node:test";
import { quickstartMarks, wallClock } from "../../src/bench/quickstart-marks.js";
import type { JobRun } from "../../src/bench/run-job.js";

/**
 * 2 s of start-up; 12 steps of 1 s (rewards 0.2 ×5, 0.6 ×5, 0.7 ×2); eval passes of 3 s at steps 0, 6 and 12 with
 * fidelity 0.9, 0.8, 0.7.
 */
function run(): JobRun {
  const rewards = [...Array<number>(5).fill(0.2), ...Array<number>(5).fill(0.6), 0.7, 0.7];
  const steps = rewards.map((r, i) => ({ samples: 4 * (i + 1), seconds: i + 1, stepSeconds: 1, rewardMean: r, rewardMax: r, loss: -r }));
  const evals = [0, 6, 12].map((step, i) => ({ step, samples: 4 * step, seconds: step, monitors: { fidelity: 0.9 - 0.1 * i }, passSeconds: 3 }));
  return { description: "test", steps, evals, evalSeconds: 9, startupSeconds: 2, peakRssMb: 1 };
}

test("the wall clock counts start-up, training and every eval pass run before", () => {
  const clock = wallClock(run());
  // Steps 1–6 follow start-up and the step-0 pass; steps 7–12 also the step-6 pass.
  assert.deepEqual(clock.steps, [6, 7, 8, 9, 10, 11, 15, 16, 17, 18, 19, 20]);
  assert.deepEqual(clock.evals, [5, 14, 23]);
});

test("a mark reports the steps done by then, their reward gap and the last eval pass done", () => {
  const [early, middle, late] = quickstartMarks(run(), true, [10, 18, 30]);
  assert.deepEqual(early, { mark: 10, steps: 5, wallSeconds: 10, gapClosed: null, fidelity: 0.9, fidelityStep: 0, ended: false });
  assert.deepEqual(middle, { mark: 18, steps: 10, wallSeconds: 18, gapClosed: 1, fidelity: 0.8, fidelityStep: 6, ended: false });
  // (mean of the last 5, 0.64, − 0.2) / (best 0.7 − 0.2).
  assert.equal(late!.steps, 12);
  assert.ok(Math.abs(late!.gapClosed! - 0.88) < 1e-12);
  assert.deepEqual([late!.fidelity, late!.fidelityStep, late!.ended, late!.wallSeconds], [0.7, 12, true, 20]);
});

test("a mark past a run cut short by its time budget is left out, one past a finished run stands at its end", () => {
  assert.deepEqual(quickstartMarks(run(), false, [10, 30]).map((m) => m.mark), [10]);
  assert.deepEqual(quickstartMarks(run(), true, [10, 30]).map((m) => m.mark), [10, 30]);
});
