/** best_metric: which evaluation's weights are kept, on scripted monitor sequences. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BestTracker, type BestRule } from "../../src/eval/best.js";

/** The steps at which each evaluation became the best, and the final best step. */
function run(rule: BestRule, sequence: [number, Record<string, number>][]): { news: number[]; best: number | undefined } {
  const tracker = new BestTracker(rule);
  const news = sequence.filter(([step, monitors]) => tracker.consider(step, monitors)).map(([step]) => step);
  return { news, best: tracker.best?.step };
}

test("the highest reward wins, ties keep the earlier step", () => {
  const sequence: [number, Record<string, number>][] = [
    [0, { reward: 0.5 }],
    [10, { reward: 0.7 }],
    [20, { reward: 0.6 }],
    [30, { reward: 0.7 }],
    [40, { reward: 0.65 }],
  ];
  assert.deepEqual(run({ metric: "reward", minFidelity: null }, sequence), { news: [0, 10], best: 10 });
});

test("with a fidelity floor, the best reward among the evaluations at or above it wins", () => {
  // Reward rises while fidelity falls: the over-optimised steps 30 and 40 are not eligible.
  const sequence: [number, Record<string, number>][] = [
    [0, { reward: 0.55, fidelity: 0.9 }],
    [10, { reward: 0.7, fidelity: 0.85 }],
    [20, { reward: 0.78, fidelity: 0.8 }],
    [30, { reward: 0.83, fidelity: 0.6 }],
    [40, { reward: 0.84, fidelity: 0.4 }],
  ];
  assert.deepEqual(run({ metric: "reward", minFidelity: 0.8 }, sequence), { news: [0, 10, 20], best: 20 });
  assert.deepEqual(run({ metric: "reward", minFidelity: null }, sequence), { news: [0, 10, 20, 30, 40], best: 40 });
  // No fidelity reported: no evaluation can pass a floor.
  assert.deepEqual(run({ metric: "reward", minFidelity: 0.5 }, [[0, { reward: 1 }]]), { news: [], best: undefined });
});

test("drift is lower-is-better, and a non-finite value never wins", () => {
  const sequence: [number, Record<string, number>][] = [
    [0, { drift: 0.3 }],
    [10, { drift: NaN }],
    [20, { drift: 0.1 }],
    [30, { drift: 0.2 }],
  ];
  assert.deepEqual(run({ metric: "drift", minFidelity: null }, sequence), { news: [0, 20], best: 20 });
});

test("a best carried over from before a resume is only replaced by a better one", () => {
  const tracker = new BestTracker({ metric: "reward", minFidelity: null }, { step: 20, metric: "reward", value: 0.8, monitors: { reward: 0.8 } });
  assert.equal(tracker.consider(30, { reward: 0.75 }), false);
  assert.equal(tracker.consider(40, { reward: 0.81 }), true);
  assert.equal(tracker.best?.step, 40);
});
