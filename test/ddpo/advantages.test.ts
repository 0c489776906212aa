/**
 * DDPO's advantages: over the batch (TRL: (r − mean)/(std + 1e-8)), or per prompt with TRL's stat tracker semantics
 * (buffer of the last buffer_size rewards per prompt; the batch's statistics until a prompt has min_count).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { batchAdvantages, PerPromptStatTracker } from "../../src/algorithms/ddpo-advantages.js";
import { decodeSafetensors, encodeSafetensors } from "../../src/io/safetensors.js";

const close = (actual: number[], expected: number[], tol = 1e-12) =>
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) < tol, `[${i}] ${a} vs ${expected[i]}`));

test("batch advantages standardise with the population standard deviation", () => {
  // mean 2.5, population std √1.25
  close(batchAdvantages([1, 2, 3, 4]), [-1.5, -0.5, 0.5, 1.5].map((d) => d / (Math.sqrt(1.25) + 1e-8)));
  assert.deepEqual(batchAdvantages([3, 3]), [0, 0], "equal rewards give zero advantages, not NaN");
});

test("until a prompt has min_count rewards, its advantages use the whole batch's mean and std (+1e-6)", () => {
  const tracker = new PerPromptStatTracker(4, 3);
  const prompts = ["cat", "dog", "cat", "dog"];
  const rewards = [1, 10, 3, 20];
  const mean = 8.5;
  const std = Math.sqrt([1, 10, 3, 20].reduce((a, r) => a + (r - mean) ** 2, 0) / 4) + 1e-6;
  close(tracker.update(prompts, rewards), rewards.map((r) => (r - mean) / std));
});

test("once a prompt's buffer holds min_count rewards (this batch's included), its own statistics are used", () => {
  const tracker = new PerPromptStatTracker(4, 3);
  tracker.update(["cat", "dog"], [1, 10]);
  tracker.update(["cat", "dog"], [3, 20]);
  const advantages = tracker.update(["cat", "dog"], [5, 30]);
  // cat's buffer [1, 3, 5]: mean 3, std √(8/3); dog's [10, 20, 30]: mean 20, std √(200/3)
  close(advantages, [(5 - 3) / (Math.sqrt(8 / 3) + 1e-6), (30 - 20) / (Math.sqrt(200 / 3) + 1e-6)]);
});

test("a prompt's buffer keeps only its last buffer_size rewards", () => {
  const tracker = new PerPromptStatTracker(2, 2);
  tracker.update(["cat", "cat"], [100, 1]);
  const [advantage] = tracker.update(["cat"], [3]);
  // buffer [1, 3] (100 evicted): mean 2, std 1
  close([advantage!], [1 / (1 + 1e-6)]);
});

test("the buffers survive a checkpoint round trip through safetensors and give the same advantages after", () => {
  const tracker = new PerPromptStatTracker(16, 2);
  tracker.update(["a red circle", "a blue square", "a red circle"], [0.25, 0.5, 0.75]);
  const state = tracker.state();
  assert.deepEqual(Object.keys(state).sort(), ["ddpo.stat_tracker.a blue square", "ddpo.stat_tracker.a red circle"]);
  assert.deepEqual([...state["ddpo.stat_tracker.a red circle"]!.data], [0.25, 0.75]);

  const restored = new PerPromptStatTracker(16, 2);
  restored.restore(decodeSafetensors(encodeSafetensors(state)).tensors);
  const next = [["a red circle", "a blue square"], [0.5, 0.125]] as const;
  assert.deepEqual(restored.update(...next), tracker.update(...next));
});

test("a buffer longer than buffer_size is refused, naming the key", () => {
  const tracker = new PerPromptStatTracker(2, 2);
  assert.throws(
    () => tracker.restore({ "ddpo.stat_tracker.cat": { shape: [3], data: Float32Array.of(1, 2, 3) } }),
    /"ddpo\.stat_tracker\.cat" has shape \[3\].*buffer_size=2/,
  );
});
