/** Rounds of the UNet step merged into one figure, and the TF.js/PyTorch ratio round by round. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeRounds, moreUNetRounds, roundRatios } from "../../src/bench/rounds.js";
import { median } from "../../src/util/median.js";

test("rounds merge as the median of their medians, the fastest run of all and every run counted", () => {
  const merged = mergeRounds([
    { ms: 250, min_ms: 240, runs: 20, params: 7 },
    { ms: 230, min_ms: 225, runs: 20, params: 7 },
    { ms: 300, min_ms: 210, runs: 20, params: 7 },
  ]);
  assert.deepEqual(merged, { ms: 250, min_ms: 210, runs: 60, params: 7, round_ms: [250, 230, 300] });
  assert.deepEqual(mergeRounds([{ ms: 5, min_ms: 4, runs: 3 }]), { ms: 5, min_ms: 4, runs: 3, round_ms: [5] });
  assert.throws(() => mergeRounds([]), /no rounds/);
});

test("the ratio is taken round by round, over the rounds both sides ran", () => {
  assert.deepEqual(roundRatios([200, 300], [100, 150]), [2, 2]);
  assert.deepEqual(roundRatios([200, 300, 90], [100, 150]), [2, 2]);
  assert.equal(roundRatios(undefined, [1]), null);
  assert.equal(roundRatios([1], []), null);
});

test("the median is the middle value, or the mean of the middle two, whatever the order", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.throws(() => median([]), /no values/);
});

test("more rounds alternate the sides in order, merge each side's timings and leave out a round a side failed", async () => {
  const order: string[] = [];
  const tfjs: Record<string, unknown> = { unet_step: { ms: 240, min_ms: 230, runs: 5 }, unet_peak_rss_mb: 550 };
  const torch: Record<string, unknown> = { unet_step: { ms: 200, min_ms: 190, runs: 5 }, unet_peak_rss_mb: 510 };
  const untimed: Record<string, unknown> = { unavailable: "no such backend" };
  const tfjsRuns = [
    { unet_step: { ms: 250, min_ms: 245, runs: 5 }, peak_rss_mb: 560 },
    { unet_step: { ms: 999, min_ms: 999, runs: 5 }, peak_rss_mb: 900 },
    { unet_step: { ms: 230, min_ms: 220, runs: 5 }, peak_rss_mb: 540 },
  ];
  const torchRuns = [
    { unet_step: { ms: 210, min_ms: 205, runs: 5 }, peak_rss_mb: 505 },
    { timed_out: "PyTorch unet still running after 180 s (--timeout)" },
    { unet_step: { ms: 190, min_ms: 180, runs: 5 }, peak_rss_mb: 515 },
  ];
  await moreUNetRounds(3, [
    { report: tfjs, run: async () => (order.push("tfjs"), tfjsRuns.shift()!) },
    { report: untimed, run: async () => (order.push("untimed"), {}) },
    { report: torch, run: async () => (order.push("torch"), torchRuns.shift()!) },
  ]);
  assert.deepEqual(order, ["tfjs", "torch", "tfjs", "torch", "tfjs", "torch"]);
  assert.deepEqual(tfjs.unet_step, { ms: 240, min_ms: 220, runs: 15, round_ms: [240, 250, 230] });
  assert.deepEqual(torch.unet_step, { ms: 200, min_ms: 180, runs: 15, round_ms: [200, 210, 190] });
  assert.equal(tfjs.unet_peak_rss_mb, 560, "the failed round's 900 MB is left out with it");
  assert.equal(torch.unet_peak_rss_mb, 515);
  assert.deepEqual(torch.unet_round_errors, ["PyTorch unet still running after 180 s (--timeout)"]);
  assert.equal(tfjs.unet_round_errors, undefined);
  assert.deepEqual(untimed, { unavailable: "no such backend" });
});
