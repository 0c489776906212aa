import assert from "node:assert/strict";
import { test } from "node:test";
import { compareRuns, samplesToReach } from "../../src/bench/compare.js";
import { rewardRise, rewardTrend } from "../../src/bench/reward-rise.js";
import { quickstartReport, quickstartText } from "../../src/bench/quickstart-report.js";
import type { EvalRecord, JobRun, StepRecord } from "../../src/bench/run-job.js";
import { compareHtml } from "../../src/report/compare-html.js";

/** Steps of `perStep` samples each with these reward means, one second apart; `fidelity[i]` evaluated after step 2·i. */
function run(rewards: number[], perStep: number, fidelity: number[] = []): JobRun {
  const steps: StepRecord[] = rewards.map((r, i) => ({ samples: (i + 1) * perStep, seconds: i + 1, stepSeconds: 1, rewardMean: r, rewardMax: r, loss: -r }));
  const evals: EvalRecord[] = fidelity.map((f, i) => ({ step: 2 * i, samples: 2 * i * perStep, seconds: 2 * i, monitors: { fidelity: f, reward: 0 }, passSeconds: 1 }));
  return { description: "test", steps, evals, evalSeconds: evals.length, startupSeconds: 0, peakRssMb: 1 };
}

test("samples to reach a reward: the first sample count whose running mean over the window reaches it", () => {
  const steps = run([0, 0, 1, 1, 1], 4).steps;
  assert.equal(samplesToReach(steps, 0.5, 8), 12, "samples 5..12 average (4·0 + 4·1)/8");
  assert.equal(samplesToReach(steps, 1, 8), 16);
  assert.equal(samplesToReach(steps, 1.5, 8), null);
  assert.equal(samplesToReach(steps, 0, 8), 8, "never before a full window");
});

test("the comparison: DDPO's final reward, AlignProp's samples to reach it, and the ratio", () => {
  const alignprop = run([0.2, 0.4, 0.6, 0.8, 0.9], 4);
  const ddpo = run([0.2, 0.2, 0.25, 0.3, 0.3, 0.35, 0.4, 0.4], 8);
  const c = compareRuns(alignprop, ddpo, 8);
  assert.ok(Math.abs(c.ddpo.finalReward - 0.4) < 1e-12);
  assert.equal(c.ddpo.samples, 64);
  // Per sample: at 10 the window holds 2×0.2, 4×0.4, 2×0.6 (mean 0.4); at 9, 3×0.2, 4×0.4, 1×0.6 (0.375).
  assert.equal(c.alignpropSamplesToDdpoFinal, 10);
  assert.ok(Math.abs(c.sampleRatio! - 64 / 10) < 1e-12);
  assert.ok(Math.abs(c.alignprop.initialReward - 0.3) < 1e-12);
  assert.equal(c.alignprop.samplesPerSecond, 4);
  const never = compareRuns(run([0.1, 0.1], 4), ddpo, 8);
  assert.equal(never.sampleRatio, null);
  assert.equal(never.alignpropSamplesToDdpoFinal, null);
});

test("the comparison at matched faithfulness: each one's fidelity curve, and AlignProp's when it reached DDPO's final reward", () => {
  const alignprop = run([0.2, 0.4, 0.6, 0.8, 0.9], 4, [0.9, 0.85, 0.7]);
  const ddpo = run([0.2, 0.2, 0.25, 0.3, 0.3, 0.35, 0.4, 0.4], 8, [0.9, 0.88, 0.86, 0.86, 0.8]);
  const c = compareRuns(alignprop, ddpo, 8);
  assert.deepEqual(c.alignprop.fidelity.map((p) => [p.samples, p.fidelity]), [[0, 0.9], [8, 0.85], [16, 0.7]]);
  assert.equal(c.ddpo.initialFidelity, 0.9);
  assert.equal(c.ddpo.finalFidelity, 0.8);
  assert.equal(c.ddpo.fidelityStep, 8);
  // AlignProp reached DDPO's final reward after 10 samples; the first eval pass at or after it was at 16.
  assert.equal(c.alignpropFidelityAtDdpoFinal, 0.7);
  const unevaluated = compareRuns(run([0.2, 0.4, 0.6, 0.8, 0.9], 4), ddpo, 8);
  assert.equal(unevaluated.alignpropFidelityAtDdpoFinal, null);
  assert.equal(unevaluated.alignprop.finalFidelity, null);
  assert.deepEqual(unevaluated.alignprop.fidelity, []);
  const html = compareHtml(c, {});
  assert.match(html, /data-chart="fidelity-vs-samples"/);
  assert.match(html, /<strong data-fidelity-at-reach>0\.700<\/strong> against DDPO's final\s+0\.800/);
});

test("the quickstart report: reward gap closed and the fidelity it ended at, as fields and as lines", () => {
  const r = quickstartReport(run([0.2, 0.2, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6], 4, [0.85, 0.8, 0.9]), true);
  assert.equal(r.initialFidelity, 0.85);
  assert.equal(r.finalFidelity, 0.9);
  assert.equal(r.fidelityStep, 4);
  assert.equal(r.evalSeconds, 3);
  assert.ok(Math.abs(r.gapClosed - (0.6 - 0.36) / (0.6 - 0.36)) < 1e-12);
  const lines = quickstartText(r).split("\n");
  assert.equal(
    lines[0],
    "reward gap closed 100% (reward 0.360 → 0.600, best sample 0.600) in 10 steps, 10 s of training; prompt fidelity 0.850 → 0.900 (eval at step 4, 3 s of eval); 0 s of start-up",
  );
  // Step 10 ends at 10 s of training plus the 3 eval passes before it (1 s each).
  assert.deepEqual(lines.slice(1), [1, 3, 10].map((m) => `at ${m} min: reward gap closed 100% after 10 steps, prompt fidelity 0.900 (eval at step 4) (the run ended at 13 s)`));
  const unevaluated = quickstartText(quickstartReport(run([0.2, 0.2, 0.3, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6], 4), true));
  assert.match(unevaluated.split("\n")[0]!, /prompt fidelity not evaluated → not evaluated; 0 s of start-up$/);
  assert.match(unevaluated, /at 1 min: reward gap closed 100% after 10 steps, prompt fidelity not evaluated yet/);
});

test("the comparison page has both curves against samples and seconds, the numbers, and escapes text", () => {
  const c = compareRuns(run([0.2, 0.6], 4), run([0.2, 0.3], 8), 4);
  const html = compareHtml(c, { note: "<b>x</b>" });
  assert.match(html, /data-chart="reward-vs-samples"/);
  assert.match(html, /data-chart="reward-vs-seconds"/);
  assert.equal((html.match(/AlignProp/g) ?? []).length >= 3, true);
  assert.match(html, /<strong data-ratio>\d+\.\d×?<\/strong>|<strong data-ratio>[\d.]+<\/strong>/);
  assert.ok(html.includes("&lt;b&gt;x&lt;/b&gt;") && !html.includes("<b>x</b>"));
});

test("reward rise: the share of the gap from the first steps' mean to the best sample that the last steps closed", () => {
  const steps = run([0.2, 0.2, 0.3, 0.5, 0.6, 0.6], 4).steps.map((s, i) => ({ ...s, rewardMax: i === 4 ? 1 : s.rewardMean }));
  const r = rewardRise(steps, 2);
  assert.ok(Math.abs(r.initial - 0.2) < 1e-12 && Math.abs(r.final - 0.6) < 1e-12);
  assert.equal(r.best, 1);
  assert.ok(Math.abs(r.gapClosed - 0.5) < 1e-12);
  assert.equal(r.samples, 24);
  assert.throws(() => rewardRise(steps, 4), /needs at least 8 steps; the run made 6/);
});

test("reward trend: the least-squares slope of the steps' reward means, its rise over the run and its t statistic", () => {
  const line = rewardTrend(run([0.1, 0.2, 0.3, 0.4, 0.5], 4).steps);
  assert.ok(Math.abs(line.slope - 0.1) < 1e-12 && Math.abs(line.rise - 0.4) < 1e-12);
  assert.ok(line.t > 1e6, "an exact line: no residual");
  // 0, 1, 0, 1: slope 0.2 (Σ(x − 1.5)(y − 0.5) = 1, Σ(x − 1.5)² = 5); residuals −0.2, 0.6, −0.6, 0.2 (Σ² = 0.8),
  // so SE = √(0.8 / 2 / 5) = √0.08 and t = 0.2 / √0.08 = 1/√2.
  const noisy = rewardTrend(run([0, 1, 0, 1], 4).steps);
  assert.ok(Math.abs(noisy.slope - 0.2) < 1e-12 && Math.abs(noisy.t - Math.SQRT1_2) < 1e-12);
  assert.throws(() => rewardTrend(run([0, 1], 4).steps), /at least 3 steps; the run made 2/);
});
