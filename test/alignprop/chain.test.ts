/**
 * The differentiable sampling chain on a tiny pipeline (cpu backend): which steps are kept, gradients equal to
 * finite differences and to a chain with the other steps stopped by hand, checkpointing on/off, and which UNet
 * calls run under the gradient tape.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import type { DiffusionComponents } from "../../src/algorithms/conditioning.js";
import { chainGradients, keptSteps, type Chain } from "../../src/diffusion/differentiable-sampler.js";
import { Rng } from "../../src/util/rng.js";
import { tinyChain as setup } from "./tiny-pipeline.js";

before(async () => {
  await tf.setBackend("cpu");
});

const read = (ts: tf.Tensor[]) => ts.map((t) => [...t.dataSync()]);
const flat = (xs: number[][]) => xs.flat();
function relativeError(a: number[], b: number[]): number {
  const diff = Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]!) ** 2, 0));
  return diff / Math.max(Math.sqrt(b.reduce((s, x) => s + x * x, 0)), 1e-12);
}

/** Identity with zero gradient: what TRL's `noise_pred.detach()` does, applied after the UNet ran on the tape. */
const detach = tf.customGrad((...inputs) => {
  const x = inputs[0] as tf.Tensor;
  return { value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) };
});

/** TRL's loop written out: every step on one tape, the UNet output detached where keep[i] is false. */
function handStopped(c: DiffusionComponents, chain: Chain, keep: boolean[], xT: tf.Tensor4D, loss: (x: tf.Tensor4D) => tf.Scalar, vars: tf.Variable[]) {
  return tf.engine().gradients(
    () => {
      let x = xT;
      c.scheduler.timesteps.forEach((t, i) => {
        const both = c.unet.forward(tf.concat([x, x]), t, chain.context);
        const [u, cond] = tf.split(both, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
        let eps = tf.add(u, tf.mul(5, tf.sub(cond, u))) as tf.Tensor4D;
        if (!keep[i]) eps = detach(eps) as tf.Tensor4D;
        x = c.scheduler.step(eps, t, x, { eta: 1, varianceNoise: chain.noise[i] }).prevSample as tf.Tensor4D;
      });
      return loss(x);
    },
    vars,
    undefined,
    true,
  );
}

test("fixed truncation keeps the steps from truncated_backprop_timestep on; a random cut drawn once keeps a suffix", () => {
  const rng = new Rng(1);
  assert.deepEqual(keptSteps(5, { rand: false, timestep: 3, minmax: [0, 5], perStep: false }, rng), [false, false, false, true, true]);
  const counts = new Array<number>(6).fill(0);
  for (let i = 0; i < 6000; i++) {
    const keep = keptSteps(5, { rand: true, timestep: 0, minmax: [0, 5], perStep: false }, rng);
    const cut = keep.indexOf(true) < 0 ? 5 : keep.indexOf(true);
    assert.deepEqual(keep, keep.map((_, j) => j >= cut), "a suffix");
    counts[cut]!++;
  }
  for (const n of counts) assert.ok(Math.abs(n - 1000) < 120, `cut counts ${counts} are uniform over [0, 5], both ends included`);
  const narrow = new Set(Array.from({ length: 200 }, () => keptSteps(5, { rand: true, timestep: 0, minmax: [2, 3], perStep: false }, rng).indexOf(true)));
  assert.deepEqual([...narrow].sort(), [2, 3]);
});

test("TRL's per-step redraw keeps step i with probability (i − min + 1)/(max − min + 1), not only suffixes", () => {
  const rng = new Rng(2);
  const kept = new Array<number>(4).fill(0);
  let nonSuffix = 0;
  const n = 8000;
  for (let i = 0; i < n; i++) {
    const keep = keptSteps(4, { rand: true, timestep: 0, minmax: [0, 4], perStep: true }, rng);
    keep.forEach((k, j) => (kept[j]! += k ? 1 : 0));
    if (keep.some((k, j) => k && !keep[j + 1] && j + 1 < keep.length)) nonSuffix++;
  }
  kept.forEach((count, j) => assert.ok(Math.abs(count / n - (j + 1) / 5) < 0.02, `step ${j} kept ${count / n}, expected ${(j + 1) / 5}`));
  assert.ok(nonSuffix > n / 4, `${nonSuffix} of ${n} chains keep a step and then drop a later one`);
});

test("the LoRA gradient through a 3-step chain equals a finite-difference estimate (relative error ≤ 1e-2)", (t) => {
  const { c, chain, xT, loss, vars, release } = setup(1);
  const keepAll = [true, true, true];
  const { grads } = chainGradients(chain, keepAll, xT, loss, vars, false);
  // The parameter with the largest gradient, probed along a random direction.
  const norms = grads.map((g) => tf.tidy(() => tf.norm(g).dataSync()[0]!));
  const i = norms.indexOf(Math.max(...norms));
  const v = tf.randomNormal(vars[i]!.shape, 0, 1, "float32", 9);
  const analytic = tf.tidy(() => tf.sum(tf.mul(grads[i]!, v)).dataSync()[0]!);
  const original = vars[i]!.clone();
  const lossAt = (eps: number) => {
    tf.tidy(() => vars[i]!.assign(tf.add(original, tf.mul(v, eps))));
    return tf.tidy(() => chainGradients(chain, [false, false, false], xT, loss, vars, false).value.dataSync()[0]!);
  };
  const eps = 1e-2;
  const numeric = (lossAt(eps) - lossAt(-eps)) / (2 * eps);
  vars[i]!.assign(original);
  const rel = Math.abs(numeric - analytic) / Math.abs(analytic);
  t.diagnostic(`${c.lora.namedParameters()[i]![0]}: analytic ${analytic.toExponential(4)}, numeric ${numeric.toExponential(4)}, relative error ${rel.toExponential(2)}`);
  assert.ok(rel <= 1e-2, `relative error ${rel}`);
  tf.dispose([...grads, v, original]);
  release();
});

test("with K kept steps the gradient equals the full chain's with the other steps' UNet outputs stopped by hand", (t) => {
  const { c, chain, xT, loss, vars, release } = setup(2);
  for (const keep of [[false, false, true], [false, true, true], [true, false, true], [false, false, false]]) {
    tf.tidy(() => {
      const ours = chainGradients(chain, keep, xT, loss, vars, false);
      const reference = handStopped(c, chain, keep, xT, loss, vars);
      const expected = flat(read(vars.map((v, i) => reference.grads[i] ?? tf.zerosLike(v))));
      const actual = flat(read(ours.grads));
      assert.equal(ours.value.dataSync()[0], reference.value.dataSync()[0], "same loss");
      if (!keep.includes(true)) {
        assert.ok(actual.every((x) => x === 0) && expected.every((x) => x === 0), "nothing kept: zero gradient");
        return;
      }
      const rel = relativeError(actual, expected);
      t.diagnostic(`keep ${keep.map(Number).join("")}: relative error ${rel.toExponential(2)}`);
      assert.ok(rel <= 1e-5, `keep ${keep}: relative error ${rel}`);
    });
  }
  release();
});

test("gradient checkpointing on and off gives the same loss and gradients", (t) => {
  const { chain, xT, loss, vars, release } = setup(3);
  for (const keep of [[false, true, true], [true, false, true]]) {
    tf.tidy(() => {
      const plain = chainGradients(chain, keep, xT, loss, vars, false);
      const checkpointed = chainGradients(chain, keep, xT, loss, vars, true);
      assert.equal(checkpointed.value.dataSync()[0], plain.value.dataSync()[0]);
      const rel = relativeError(flat(read(checkpointed.grads)), flat(read(plain.grads)));
      t.diagnostic(`keep ${keep.map(Number).join("")}: relative difference ${rel.toExponential(2)}`);
      assert.ok(rel <= 1e-6, `relative difference ${rel}`);
    });
  }
  release();
});

/** Runs the chain recording, for each UNet call, its step index and whether the gradient tape was recording. */
function tapeLog(keep: boolean[], checkpointing: boolean): Array<[number, boolean]> {
  const { c, chain, xT, loss, vars, release } = setup(4);
  const log: Array<[number, boolean]> = [];
  const forward = c.unet.forward.bind(c.unet);
  c.unet.forward = (sample, timestep, context) => {
    log.push([c.scheduler.timesteps.indexOf(timestep as number), tf.engine().isTapeOn()]);
    return forward(sample, timestep, context);
  };
  tf.tidy(() => void chainGradients(chain, keep, xT, loss, vars, checkpointing));
  release();
  return log;
}

test("only the kept steps run the UNet under the tape; the steps before the cut run once, off the tape", () => {
  assert.deepEqual(tapeLog([false, false, true], false), [[0, false], [1, false], [2, true]]);
  assert.deepEqual(tapeLog([false, true, true], false), [[0, false], [1, true], [2, true]]);
  // TRL's per-step pattern: step 1 runs inside the gradient pass but its UNet output is a constant (off the tape).
  assert.deepEqual(tapeLog([true, false, true], false), [[0, true], [1, false], [2, true]]);
});

test("with checkpointing the kept steps run forward off the tape, then again on it in the backward pass, last first", () => {
  assert.deepEqual(tapeLog([false, true, true], true), [[0, false], [1, false], [2, false], [2, true], [1, true]]);
});
