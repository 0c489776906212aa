/**
 * DDPO's PPO-clip loss and TRL's diagnostics, against values worked out by hand.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { ppoClipLoss, ppoStats } from "../../src/algorithms/ddpo-loss.js";

before(async () => {
  await tf.setBackend("cpu");
});

const clip = { clipRange: 0.1, advClipMax: 5 };
// Four samples: ratio e^0.05 inside the clip range; e^0.2 above it; e^−0.3 below it; ratio 1 with an advantage of 8.
const logProb = [0.05, 0.2, -0.3, -1];
const oldLogProb = [0, 0, 0, -1];
const advantages = [2, 1, -0.5, 8];

test("the PPO-clip loss is mean(max(−A·ρ, −A·clip(ρ, 1 ± ε))) with A clipped to ±adv_clip_max", () => {
  const r = logProb.map((lp, i) => Math.exp(lp - oldLogProb[i]!));
  const byHand = [
    -2 * r[0]!, // inside [0.9, 1.1]: both terms equal
    Math.max(-1 * r[1]!, -1 * 1.1), // ρ = 1.2214 > 1.1, A > 0: the clipped term −1.1 is the larger
    Math.max(0.5 * r[2]!, 0.5 * 0.9), // ρ = 0.7408 < 0.9, A < 0: the clipped term 0.45 is the larger
    -5 * 1, // A = 8 clipped to 5
  ];
  assert.deepEqual(byHand.map((v) => +v.toFixed(6)), [-2.102542, -1.1, 0.45, -5]);
  const loss = tf.tidy(() => ppoClipLoss(tf.tensor1d(logProb), tf.tensor1d(oldLogProb), tf.tensor1d(advantages), clip).dataSync()[0]!);
  const expected = byHand.reduce((a, b) => a + b) / 4;
  assert.ok(Math.abs(loss - expected) < 1e-6, `${loss} vs ${expected}`);
});

test("the gradient reaches a log-prob only where the unclipped term is the larger: −A·ρ/B there, 0 where clipped", () => {
  const grad = tf.tidy(() => {
    const [old, adv] = [tf.tensor1d(oldLogProb), tf.tensor1d(advantages)];
    return tf.grad((lp: tf.Tensor) => ppoClipLoss(lp as tf.Tensor1D, old, adv, clip))(tf.tensor1d(logProb)).dataSync();
  });
  const expected = [-2 * Math.exp(0.05) / 4, 0, 0, -5 / 4];
  grad.forEach((g, i) => assert.ok(Math.abs(g - expected[i]!) < 1e-6, `sample ${i}: ${g} vs ${expected[i]}`));
});

test("a ratio that moved against its advantage keeps its gradient (the unclipped term is the larger)", () => {
  // A > 0 and ρ = e^−0.3 < 1 − ε: max(−ρ, −0.9) = −ρ, so the loss still pulls ρ up.
  const grad = tf.tidy(() => tf.grad((lp: tf.Tensor) => ppoClipLoss(lp as tf.Tensor1D, tf.tensor1d([0]), tf.tensor1d([1]), clip))(tf.tensor1d([-0.3])).dataSync()[0]!);
  assert.ok(Math.abs(grad + Math.exp(-0.3)) < 1e-6, `${grad}`);
});

test("approx KL is ½·mean(Δ log p)² and the clip fraction counts ratios outside 1 ± ε", () => {
  const { approxKl, clipFraction } = ppoStats(logProb, oldLogProb, clip.clipRange);
  assert.ok(Math.abs(approxKl - (0.5 * (0.05 ** 2 + 0.2 ** 2 + 0.3 ** 2 + 0)) / 4) < 1e-12);
  assert.equal(clipFraction, 2 / 4);
});
