/**
 * AdamW as torch.optim.AdamW computes it (decay first, ε outside the bias-corrected root), against a float64
 * transcription of PyTorch's update.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { AdamW, type AdamWOptions } from "../../src/algorithms/adamw.js";

before(async () => {
  await tf.setBackend("cpu");
});

const OPTIONS: AdamWOptions = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };

/** torch/optim/adamw.py `_single_tensor_adamw` for one parameter, in float64. */
function reference(p: number[], grads: number[][], o: AdamWOptions): number[] {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const step = k + 1;
    const stepSize = o.learningRate / (1 - o.beta1 ** step);
    const bc2Sqrt = Math.sqrt(1 - o.beta2 ** step);
    p = p.map((x, i) => {
      x *= 1 - o.learningRate * o.weightDecay;
      m[i] = o.beta1 * m[i]! + (1 - o.beta1) * g[i]!;
      v[i] = o.beta2 * v[i]! + (1 - o.beta2) * g[i]! ** 2;
      return x - (stepSize * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + o.epsilon);
    });
  });
  return p;
}

test("three AdamW updates match PyTorch's formula within 1e-6", () => {
  const start = [0.5, -1, 2, 0];
  const grads = [[0.3, -0.2, 1e-3, 0], [0.1, 0.4, -2, 0], [-0.5, 0.1, 0.5, 1e-9]];
  const p = tf.variable(tf.tensor1d(start));
  const opt = new AdamW([p], OPTIONS);
  for (const g of grads) tf.tidy(() => opt.apply([tf.tensor1d(g)]));
  const expected = reference(start, grads, OPTIONS);
  [...p.dataSync()].forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) < 1e-6, `element ${i}: ${x} vs ${expected[i]}`));
  assert.equal(opt.stepCount, 3);
  opt.dispose();
  p.dispose();
});

test("an optimizer given another's step count and moments continues with bit-identical updates", () => {
  const run = (restoreAt: number | undefined) => {
    const p = tf.variable(tf.tensor1d([1, 2, 3]));
    let opt = new AdamW([p], OPTIONS);
    for (let k = 0; k < 4; k++) {
      if (k === restoreAt) {
        const copy = new AdamW([p], OPTIONS);
        copy.stepCount = opt.stepCount;
        copy.expAvg[0]!.assign(opt.expAvg[0]!);
        copy.expAvgSq[0]!.assign(opt.expAvgSq[0]!);
        opt.dispose();
        opt = copy;
      }
      tf.tidy(() => opt.apply([tf.tensor1d([0.1 * k, -0.3, 0.7 / (k + 1)])]));
    }
    const out = [...p.dataSync()];
    opt.dispose();
    p.dispose();
    return out;
  };
  assert.deepEqual(run(2), run(undefined));
});

test("a gradient list of the wrong length is refused", () => {
  const p = tf.variable(tf.zeros([2]));
  const opt = new AdamW([p], OPTIONS);
  assert.throws(() => opt.apply([]), /AdamW: 0 gradients for 1 parameters/);
  opt.dispose();
  p.dispose();
});
