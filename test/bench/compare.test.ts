import assert from "node:assert/strict";
import { test } from "node:test";
import { compareRuns, samplesToReach } from "../../src/bench/compare.js";
import { rewardRise, rewardTrend } from "../../src/bench/reward-rise.js";
import type { JobRun, StepRecord } from "../../src/bench/run-job.js";
import { compareHtml } from "../../src/report/compare-html.js";

/** Steps of `perStep` samples each with these reward means, one second apart. */
function run(rewards: number[], perStep: number): JobRun {
  const steps: StepRecord[] = rewards.map((r, i) => ({ samples: (i + 1) * perStep, seconds: i + 1, stepSeconds: 1, rewardMean: r, rewardMax: r, loss: -r }));
  return { description: "test", steps, peakRssMb: 1 };
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
