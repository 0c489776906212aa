/**
 * Built-in rewards: values on images whose answer is known, gradients equal to finite differences, resizing to a
 * reward's input size, and the AlignProp refusal of non-differentiable rewards.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { brightness, contrast, hue, hueDegrees, saturation } from "../../src/rewards/builtin.js";
import { resolveReward } from "../../src/rewards/registry.js";
import { requireDifferentiable, scoreImages, type Reward } from "../../src/rewards/reward.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** A [n, 2, 2, 3] batch, one flat colour per image. */
const flat = (...colours: [number, number, number][]) =>
  tf.tensor4d(colours.flatMap((c) => [...c, ...c, ...c, ...c]), [colours.length, 2, 2, 3]);

const rewardsOf = (reward: Reward, images: tf.Tensor4D) =>
  tf.tidy(() => [...scoreImages(reward, images, images.shape.map(() => "p").slice(0, images.shape[0]), Array(images.shape[0]).fill({})).rewards.dataSync()]);

const close = (actual: number[], expected: number[], tol = 1e-5) =>
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= tol, `value ${i}: ${a} vs ${expected[i]}`));

test("brightness is mean Rec. 601 luma: 0 for black, 1 for white, 0.299 for pure red", () => {
  close(rewardsOf(brightness, flat([0, 0, 0], [1, 1, 1], [1, 0, 0])), [0, 1, 0.299]);
});

test("saturation is mean chroma: 0 for greys, 1 for pure colours, 0.5 for a pastel", () => {
  close(rewardsOf(saturation, flat([0.3, 0.3, 0.3], [0, 1, 1], [1, 0.5, 0.5])), [0, 1, 0.5]);
});

test("contrast is the standard deviation of luma: 0 when flat, 0.5 for half black half white", () => {
  const halves = tf.tensor4d([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1], [1, 2, 2, 3]);
  close([...rewardsOf(contrast, flat([0.4, 0.4, 0.4])), ...rewardsOf(contrast, halves)], [0, 0.5], 1e-3);
});

test("hue rewards the target colour 1, greys 0 and the opposite colour −1", () => {
  close(rewardsOf(hue("blue"), flat([0, 0, 1], [0.5, 0.5, 0.5], [1, 1, 0], [0, 1, 0])), [1, 0, -1, -0.5]);
  close(rewardsOf(hue("#00ff00"), flat([0, 1, 0])), [1]);
  close(rewardsOf(hue("60"), flat([1, 1, 0])), [1]);
});

test("hue targets parse names, degrees and #rrggbb, and a grey or unknown target is a clear error", () => {
  assert.equal(hueDegrees("Cyan"), 180);
  assert.equal(hueDegrees("-90"), 270);
  assert.ok(Math.abs(hueDegrees("#ff00ff") - 300) < 1e-9);
  assert.throws(() => hueDegrees("#808080"), /#808080 is a grey: it has no hue/);
  assert.throws(() => hueDegrees("teal"), /hue target "teal" is not a hue: use a name \(red, orange/);
});

/** d/dx of Σ w·reward(x) against central differences along random directions, relative error ≤ 1e-2 (float32). */
for (const reward of [brightness, saturation, contrast, hue("orange")]) {
  test(`the ${reward.info.name} gradient equals a finite-difference estimate`, (t) => {
    tf.tidy(() => {
      // Channels kept apart (R > G > B) so max/min stay on one side of their kinks within ±eps.
      const x = tf.add(tf.tensor1d([0.8, 0.5, 0.2]), tf.randomUniform([2, 4, 4, 3], -0.1, 0.1, "float32", 7)) as tf.Tensor4D;
      const w = tf.tensor1d([1, -0.7]);
      const f = (images: tf.Tensor) => tf.sum(tf.mul(reward.score(images as tf.Tensor4D, ["a", "b"], [{}, {}]).rewards, w));
      const g = tf.grad(f)(x);
      for (let seed = 0; seed < 3; seed++) {
        const v = tf.randomNormal(x.shape, 0, 1, "float32", 100 + seed);
        const eps = 1e-3;
        const numeric = (f(tf.add(x, tf.mul(v, eps))).dataSync()[0]! - f(tf.sub(x, tf.mul(v, eps))).dataSync()[0]!) / (2 * eps);
        const analytic = tf.sum(tf.mul(g, v)).dataSync()[0]!;
        const rel = Math.abs(numeric - analytic) / Math.max(Math.abs(analytic), 1e-3);
        t.diagnostic(`direction ${seed}: analytic ${analytic.toFixed(5)}, numeric ${numeric.toFixed(5)}, rel ${rel.toExponential(2)}`);
        assert.ok(rel <= 1e-2, `relative error ${rel}`);
      }
    });
  });
}

test("scoring resizes images to the reward's input size and refuses a wrong output shape", () => {
  let seen: number[] = [];
  const sized: Reward = {
    info: { name: "sized", description: "", inputSize: 3, range: [0, 1], differentiable: true },
    score: (images) => ((seen = images.shape), { rewards: tf.mean(images, [1, 2, 3]) as tf.Tensor1D, meta: {} }),
  };
  close(rewardsOf(sized, flat([0.2, 0.4, 0.6])), [0.4]);
  assert.deepEqual(seen, [1, 3, 3, 3]);
  const wrong: Reward = { ...sized, info: { ...sized.info, name: "wrong", inputSize: null }, score: (images) => ({ rewards: tf.mean(images, [1, 2]) as tf.Tensor1D, meta: {} }) };
  assert.throws(() => rewardsOf(wrong, flat([0, 0, 0], [1, 1, 1])), /reward "wrong" returned shape \[2,3\] for 2 images; it must return \[2\]/);
});

test("the registry resolves built-ins by name, hue with a target, and names the choices for an unknown name", async () => {
  assert.equal((await resolveReward("brightness")).info.name, "brightness");
  assert.equal((await resolveReward("hue:blue")).info.name, "hue:blue");
  assert.equal((await resolveReward("hue")).info.name, "hue:red");
  await assert.rejects(resolveReward("sharpness"), /reward="sharpness" is neither a built-in \(brightness, saturation, contrast, hue, aesthetic, clip-score, tiny-aesthetic, tiny-clip-score\) nor a module path/);
  await assert.rejects(resolveReward("brightness:2"), /brightness takes no argument/);
});

test("AlignProp refuses a non-differentiable reward and points at DDPO", () => {
  const values: Reward = { ...brightness, info: { ...brightness.info, name: "jpeg-size", differentiable: false } };
  assert.throws(() => requireDifferentiable(values), /reward "jpeg-size" is not differentiable.*--algorithm ddpo/s);
  assert.doesNotThrow(() => requireDifferentiable(brightness));
});
