/**
 * Both engines learn alike: 50 AlignProp steps on tiny-shapes, the quickstart's settings scaled to fit a test, raise
 * the tiny-aesthetic reward on the TF.js engine and on the torch engine by amounts of the same size. Same config and
 * seed; the draws differ (each engine has its own generator), so the curves are compared as curves, not step by step.
 *
 * "Comparably", with batch-4 reward means that scatter by ~0.06 around their trend:
 * - each engine's least-squares trend rises with t ≥ 2 (not the steps' noise);
 * - the two trends' rises are within a factor of 2 of each other;
 * - the last 10 steps' mean rewards are within 10% of each other.
 * Measured (wasm-ort, torch 2.13.0+cpu): rises 0.088 (t 2.9) and 0.081 (t 3.1); last-10 means 0.632 and 0.650.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { QUICKSTART } from "../../src/bench/alignprop-step.js";
import { loadRunConfig } from "../../src/config/index.js";
import { rewardRise, rewardTrend } from "../../src/bench/reward-rise.js";
import { runJob, type StepRecord } from "../../src/bench/run-job.js";
import { runTorchJob } from "../../src/bench/run-torch-job.js";
import { initBackend } from "../../src/tf/backend.js";

/** configs/quickstart.json (K = 2 kept steps) at batch 4 on a 6-step chain instead of 20, and 2.5× its learning rate
 * so that 50 steps show the rise the quickstart makes over its first few hundred; no KL term (kl_coeff holds the
 * reward back on purpose, and the curves here measure the reward's rise alone). */
const SCALED = { sample_num_steps: 6, truncated_backprop_timestep: 4, train_batch_size: 4, train_learning_rate: 0.005, kl_coeff: 0 };
const STEPS = 50;
/** Steps averaged at each end of a curve. */
const EDGE = 10;

const curve = (steps: readonly StepRecord[]) => steps.map((s) => s.rewardMean.toFixed(3)).join(" ");

test("50 AlignProp steps on tiny-shapes raise the reward comparably on the TF.js and the torch engine", async (t) => {
  const backend = (await initBackend("auto")).backend;
  const tfjs = await runJob(SCALED, { steps: STEPS }, QUICKSTART);
  const torch = await runTorchJob(loadRunConfig({ overrides: SCALED, file: QUICKSTART }).config, { steps: STEPS, threads: 1 });
  t.diagnostic(`tfjs (${backend}) reward means: ${curve(tfjs.steps)}`);
  t.diagnostic(`torch (${torch.torch.version}, ${torch.torch.threads} thread) reward means: ${curve(torch.steps)}`);
  const measured = Object.entries({ tfjs: tfjs.steps, torch: torch.steps }).map(([engine, steps]) => {
    const [ends, trend] = [rewardRise(steps, EDGE), rewardTrend(steps)];
    t.diagnostic(
      `${engine}: trend rise ${trend.rise.toFixed(4)} (t ${trend.t.toFixed(2)}); first ${EDGE} steps ${ends.initial.toFixed(4)} → ` +
        `last ${EDGE} ${ends.final.toFixed(4)}; best sample ${ends.best.toFixed(4)}, gap closed ${ends.gapClosed.toFixed(3)}`,
    );
    assert.ok(trend.t >= 2, `${engine}: the reward's trend (rise ${trend.rise.toFixed(4)}, t ${trend.t.toFixed(2)}) is not above its noise`);
    return { engine, rise: trend.rise, final: ends.final };
  });
  const [a, b] = measured as [(typeof measured)[0], (typeof measured)[0]];
  assert.ok(Math.max(a.rise, b.rise) <= 2 * Math.min(a.rise, b.rise), `the rises differ by more than 2×: ${a.rise.toFixed(4)} vs ${b.rise.toFixed(4)}`);
  assert.ok(Math.abs(a.final - b.final) <= 0.1 * Math.max(a.final, b.final), `the final rewards differ by more than 10%: ${a.final.toFixed(4)} vs ${b.final.toFixed(4)}`);
});
