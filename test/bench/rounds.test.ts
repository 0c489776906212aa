/** Rounds of the UNet step merged into one figure, and the TF.js/PyTorch ratio round by round. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeRounds, roundRatios } from "../../src/bench/rounds.js";
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
