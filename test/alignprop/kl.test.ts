/**
 * The KL term (`kl_coeff`) on a tiny pipeline (cpu backend): zero at the adapters' init, its gradient pulls the
 * adapted UNet's predictions towards the base UNet's (finite differences agree), checkpointing gives the same
 * gradients, and the job reports `kl` and adds kl_coeff · kl to its loss.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { chainGradients } from "../../src/diffusion/differentiable-sampler.js";
import { tinyChain, tinyJob } from "./tiny-pipeline.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** A loss that ignores x_0: the objective is then coeff · kl alone. */
const noLoss = (x0: tf.Tensor4D) => tf.mul(tf.sum(x0), 0) as tf.Scalar;

const flat = (ts: tf.Tensor[]) => ts.flatMap((t) => [...t.dataSync()]);
const norm = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0));

test("the KL term is 0 at the adapters' init (B = 0) and leaves the loss and its gradients unchanged", () => {
  const { c, chain, xT, loss, vars, release } = tinyChain(5, 2);
  for (const [name, p] of c.lora.namedParameters()) if (name.endsWith(".lora.up.weight")) p.tensor.assign(tf.zerosLike(p.tensor));
  const keep = [false, true];
  tf.tidy(() => {
    const plain = chainGradients(chain, keep, xT, loss, vars, false);
    for (const checkpointing of [false, true]) {
      const withKl = chainGradients({ ...chain, kl: { adapters: c.lora, coeff: 3 } }, keep, xT, loss, vars, checkpointing);
      assert.equal(withKl.kl!.dataSync()[0], 0);
      assert.equal(withKl.value.dataSync()[0], plain.value.dataSync()[0]);
      const [a, b] = [flat(withKl.grads), flat(plain.grads)];
      assert.ok(norm(a.map((x, i) => x - b[i]!)) <= 1e-6 * norm(b), `checkpointing ${checkpointing}: gradients differ`);
    }
  });
  release();
});

test("kl_coeff > 0: a step against the gradient lowers kl, at the rate finite differences measure (one kept step)", (t) => {
  const { c, chain, xT, vars, release } = tinyChain(6, 1);
  const kl = { adapters: c.lora, coeff: 1 };
  const klAt = () => tf.tidy(() => chainGradients({ ...chain, kl }, [true], xT, noLoss, vars, false).kl!.dataSync()[0]!);
  const { grads, kl: start } = chainGradients({ ...chain, kl }, [true], xT, noLoss, vars, false);
  const k0 = start!.dataSync()[0]!;
  const g = flat(grads);
  const gNorm = norm(g);
  const original = vars.map((v) => v.clone());
  // Move every LoRA weight by h along the unit gradient direction d = g / |g|: dkl/dh = |g| analytically.
  const move = (h: number) => vars.forEach((v, i) => tf.tidy(() => v.assign(tf.add(original[i]!, tf.mul(grads[i]!, h / gNorm)))));
  const h = 1e-2;
  move(h);
  const up = klAt();
  move(-h);
  const down = klAt();
  const numeric = (up - down) / (2 * h);
  const rel = Math.abs(numeric - gNorm) / gNorm;
  t.diagnostic(`kl ${k0.toExponential(4)}: |g| ${gNorm.toExponential(4)}, finite difference ${numeric.toExponential(4)}, relative error ${rel.toExponential(2)}`);
  assert.ok(k0 > 0, "B ≠ 0: the adapted prediction differs from the base");
  assert.ok(down < k0 && k0 < up, `kl ${down} (against the gradient) < ${k0} < ${up} (along it)`);
  assert.ok(rel <= 2e-2, `relative error ${rel}`);
  vars.forEach((v, i) => v.assign(original[i]!));
  tf.dispose([...grads, start!, ...original]);
  release();
});

test("through two kept steps, with checkpointing on and off, the KL gradient is the same and descending it lowers kl", (t) => {
  const { c, chain, xT, vars, release } = tinyChain(7, 2);
  const kl = { adapters: c.lora, coeff: 1 };
  const keep = [true, true];
  const plain = chainGradients({ ...chain, kl }, keep, xT, noLoss, vars, false);
  const checkpointed = chainGradients({ ...chain, kl }, keep, xT, noLoss, vars, true);
  const [a, b] = [flat(checkpointed.grads), flat(plain.grads)];
  const rel = norm(a.map((x, i) => x - b[i]!)) / norm(b);
  assert.ok(rel <= 1e-5, `checkpointed vs plain: relative difference ${rel}`);
  assert.ok(Math.abs(checkpointed.kl!.dataSync()[0]! - plain.kl!.dataSync()[0]!) <= 1e-7);
  const k0 = plain.kl!.dataSync()[0]!;
  vars.forEach((v, i) => tf.tidy(() => v.assign(tf.sub(v, tf.mul(plain.grads[i]!, 1e-2 / norm(b))))));
  const k1 = tf.tidy(() => chainGradients({ ...chain, kl }, keep, xT, noLoss, vars, false).kl!.dataSync()[0]!);
  t.diagnostic(`kl ${k0.toExponential(4)} → ${k1.toExponential(4)} after a 1e-2 step against the gradient`);
  assert.ok(k1 < k0, `kl ${k0} → ${k1}`);
  tf.dispose([plain.value, plain.kl!, ...plain.grads, checkpointed.value, checkpointed.kl!, ...checkpointed.grads]);
  release();
});

test("a job with kl_coeff reports kl (0 at the first step, B = 0), adds kl_coeff · kl to its loss and leaks nothing; without it, no kl", () => {
  const options = { truncated_backprop_rand: false, truncated_backprop_timestep: 1 };
  const withKl = tinyJob({ ...options, kl_coeff: 0.5 });
  const without = tinyJob(options);
  const [a1, b1] = [withKl.job.step({ keepImages: false }), without.job.step({ keepImages: false })];
  const tensors = tf.memory().numTensors;
  assert.deepEqual(a1.scalars, { kl: 0 });
  assert.equal(b1.scalars, undefined);
  assert.equal(a1.loss, b1.loss);
  // The first step's KL gradient is 0 (B = 0), so both jobs hold the same weights for the second.
  const [a2, b2] = [withKl.job.step({ keepImages: false }), without.job.step({ keepImages: false })];
  assert.equal(tf.memory().numTensors, tensors, "a step with the KL term leaves no tensor behind");
  assert.deepEqual(a2.rewards, b2.rewards);
  const kl = a2.scalars!.kl!;
  assert.ok(kl > 0, `kl ${kl}`);
  assert.ok(Math.abs(a2.loss - (b2.loss + 0.5 * kl)) <= 1e-6, `loss ${a2.loss} = ${b2.loss} + 0.5 · ${kl}`);
  withKl.release();
  without.release();
});
