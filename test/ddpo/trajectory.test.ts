/**
 * DDPO's sampler halves: the trajectory's log-probs are what the training pass recomputes (with a timestep per
 * sample), and the gradient of the DDPO objective is an estimate of the reward's gradient — it points the same way
 * as the gradient backpropagated through the step (the score-function and reparameterisation estimators agree).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { sampleTrajectory, stepLogProb, type StepModel } from "../../src/algorithms/ddpo-trajectory.js";
import { decodeLatents, encodePrompts, initialLatents } from "../../src/diffusion/pipeline-sample.js";
import { brightness } from "../../src/rewards/builtin.js";
import { Rng } from "../../src/util/rng.js";
import { disposeComponents, tinyComponents } from "../alignprop/tiny-pipeline.js";

const S = 3;
const rng = new Rng(11);
let c: ReturnType<typeof tinyComponents>;

before(async () => {
  assert.ok(await tf.setBackend("wasm"), "the wasm backend starts");
  c = tinyComponents(1);
  c.scheduler.setTimesteps(S);
  // Trained-looking adapters (B ≠ 0), so every LoRA weight has a gradient.
  c.lora.trainableVariables().forEach((v, i) => v.assign(tf.tidy(() => tf.add(v, tf.mul(tf.randomNormal(v.shape, 0, 1, "float32", i), 0.1)))));
});

after(() => disposeComponents(c));

/** [negative; prompt] × n for guidance w > 1, else the prompt × n. */
const contextFor = (n: number, w: number) =>
  tf.tidy(() => {
    const prompt = tf.tile(encodePrompts(c, ["a red circle"]), [n, 1, 1]);
    return (w > 1 ? tf.concat([tf.tile(encodePrompts(c, [""]), [n, 1, 1]), prompt]) : prompt) as tf.Tensor3D;
  });

const latents = (n: number) => initialLatents([n, 8, 8, 4], rng, 1);

test("the training pass recomputes the trajectory's log-probs, with a different step for each sample", () => {
  tf.tidy(() => {
    const n = 3;
    const context = contextFor(n, 5);
    const noise = Array.from({ length: S }, () => latents(n));
    const traj = sampleTrajectory({ unet: c.unet, scheduler: c.scheduler, context, guidanceScale: 5, eta: 1, noise }, latents(n));
    assert.deepEqual(traj.latents.shape, [n, S + 1, 8, 8, 4]);
    assert.deepEqual(traj.logProbs.shape, [n, S]);
    const at = [0, 2, 1];
    const flat = tf.reshape(traj.latents, [n * (S + 1), 8, 8, 4]) as tf.Tensor4D;
    const pick = (offset: number) => tf.gather(flat, at.map((i, r) => r * (S + 1) + i + offset)) as tf.Tensor4D;
    const model: StepModel = { unet: c.unet, scheduler: c.scheduler, context, guidanceScale: 5, eta: 1 };
    const recomputed = stepLogProb(model, pick(0), at.map((i) => c.scheduler.timesteps[i]!), pick(1)).dataSync();
    const sampled = traj.logProbs.arraySync();
    at.forEach((i, r) => assert.ok(Math.abs(recomputed[r]! - sampled[r]![i]!) < 1e-4, `sample ${r} step ${i}: ${recomputed[r]} vs ${sampled[r]![i]}`));
  });
});

const flat = (grads: readonly tf.Tensor[]) => tf.concat(grads.map((g) => tf.reshape(g, [-1])));
const cosine = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(a, b)).dataSync()[0]! / (tf.norm(a).dataSync()[0]! * tf.norm(b).dataSync()[0]!);

test("the DDPO gradient of the last step points along the reward gradient backpropagated through it (cosine > 0.3)", (t) => {
  // 128 draws of the last step's noise from one x_1: E[(r − r̄)·∇log p] = ∇E[r] = E[∇r], estimated both ways.
  const n = 128;
  const w = 5;
  const step = S - 1;
  const timestep = c.scheduler.timesteps[step]!;
  const params = c.lora.trainableVariables();
  const cos = tf.tidy(() => {
    const model: StepModel = { unet: c.unet, scheduler: c.scheduler, context: contextFor(n, w), guidanceScale: w, eta: 1 };
    const x1 = tf.tile(latents(1), [n, 1, 1, 1]) as tf.Tensor4D;
    const z = latents(n);
    const timesteps = new Array<number>(n).fill(timestep);
    const stepOnce = () => {
      const eps = tf.tidy(() => {
        const both = c.unet.forward(tf.concat([x1, x1]), timestep, model.context);
        const [u, cond] = tf.split(both, 2, 0) as [tf.Tensor4D, tf.Tensor4D];
        return tf.add(u, tf.mul(w, tf.sub(cond, u))) as tf.Tensor4D;
      });
      return c.scheduler.step(eps, timestep, x1, { eta: 1, varianceNoise: z }).prevSample as tf.Tensor4D;
    };
    const reward = (x0: tf.Tensor4D) => brightness.score(decodeLatents(c.vae, x0), [], []).rewards;
    const pathwise = tf.engine().gradients(() => tf.mean(reward(stepOnce())), params).grads;
    const x0 = stepOnce();
    const r = reward(x0);
    const advantages = tf.sub(r, tf.mean(r));
    const score = tf.engine().gradients(() => tf.mean(tf.mul(advantages, stepLogProb(model, x1, timesteps, x0))), params).grads;
    return cosine(flat(pathwise), flat(score));
  });
  t.diagnostic(`cosine ${cos.toFixed(3)}`);
  assert.ok(cos > 0.3, `cosine ${cos}`);
});
