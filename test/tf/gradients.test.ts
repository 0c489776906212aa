/** The freeing backward pass (src/tf/gradients.ts) gives TF.js's own gradients, bit for bit, with a lower peak. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { gradients } from "../../src/tf/gradients.js";
import { randomValues } from "./compare.js";

before(async () => {
  await tf.setBackend("cpu");
});

/**
 * Six self-attention blocks on [2, 64, 4] (the backward pass makes more [64, 64] tensors than the forward keeps),
 * with what trips a freeing pass: a broadcasting add, a clone (its gradient hands dy on as it is), a tensor used
 * twice, a branch that does not reach the value and a variable the value ignores.
 */
function problem() {
  const weights = Array.from({ length: 6 }, (_, i) => tf.variable(tf.mul(tf.tensor2d(randomValues([4, 4], 10 + i), [4, 4]), 0.3)));
  const bias = tf.variable(tf.tensor1d(randomValues([4], 3)));
  const unused = tf.variable(tf.tensor1d(randomValues([4], 4)));
  const input = tf.tensor3d(randomValues([2, 64, 4], 7), [2, 64, 4]);
  const f = () => {
    let x: tf.Tensor3D = input;
    for (const w of weights) {
      const q = tf.add(tf.reshape(tf.matMul(tf.reshape(x, [-1, 4]), w), [2, 64, 4]), bias) as tf.Tensor3D;
      const p = tf.softmax(tf.matMul(q, x, false, true)); // [2, 64, 64]
      tf.mul(p, 3); // a branch that does not reach the value
      x = tf.add(x, tf.matMul(tf.clone(p), x));
    }
    return tf.mean(tf.square(x));
  };
  return { f, xs: [input, ...weights, bias, unused] };
}

/** The most tensor bytes alive during the backward pass: after the forward's last kernel, the loss's Mean. */
async function backwardPeak(run: () => void): Promise<number> {
  const { kernels } = await tf.profile(run);
  const forwardKernels = kernels.findIndex((k) => k.name === "Mean") + 1;
  return Math.max(...kernels.slice(forwardKernels).map((k) => k.totalBytesSnapshot));
}

test("gradients equal engine.gradients' bit for bit, leave no tensor behind, and the backward pass peaks lower", async () => {
  const { f, xs } = problem();
  const before = tf.memory().numTensors;
  let theirs: (tf.Tensor | null)[] = [];
  let ours: (tf.Tensor | undefined)[] = [];
  const theirPeak = await backwardPeak(() => {
    const { value, grads } = tf.engine().gradients(f, xs, undefined, true);
    value.dispose();
    theirs = grads;
  });
  const ourPeak = await backwardPeak(() => {
    const { value, grads } = gradients(f, xs);
    value.dispose();
    ours = grads;
  });
  assert.equal(ours.length, xs.length);
  assert.equal(ours.at(-1), undefined, "a variable the value ignores has no gradient");
  assert.equal(theirs.at(-1), undefined);
  for (let i = 0; i < xs.length - 1; i++) assert.deepEqual(ours[i]!.dataSync(), theirs[i]!.dataSync(), `gradient ${i}`);
  assert.ok(ourPeak < 0.6 * theirPeak, `backward peak ${ourPeak} B vs TF.js's ${theirPeak} B`);
  tf.dispose([...ours, ...theirs].filter((t): t is tf.Tensor => t != null));
  assert.equal(tf.memory().numTensors, before, "only the gradients were handed back");
});

test("gradients takes dy, leaves it to the caller, and gives d(value·dy)", () => {
  const x = tf.tensor2d([[1, 2], [3, 4]]);
  const dy = tf.tensor2d([[1, 0], [0.5, 2]]);
  const { value, grads } = gradients(() => tf.clone(tf.square(x)), [x], dy);
  assert.deepEqual(Array.from(grads[0]!.dataSync()), [2, 0, 3, 16]);
  assert.equal(dy.isDisposed, false);
  tf.dispose([value, ...grads.filter((g): g is tf.Tensor => g != null), x, dy]);
});

test("gradients refuses an empty xs and a non-float dy, naming them", () => {
  assert.throws(() => gradients(() => tf.scalar(1), []), /xs is empty/);
  const x = tf.scalar(2);
  assert.throws(() => gradients(() => tf.square(x), [x], tf.scalar(1, "int32")), /dy must be float32, got int32/);
  x.dispose();
});

test("a gradient that hands its dy on as it is loses no gradient, keeps the caller's dy and leaves no tensor", () => {
  const passOn = tf.customGrad((...args: unknown[]) => ({ value: tf.mul(args[0] as tf.Tensor, 1), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => dy }));
  const x = tf.tensor1d([1, 2, 3]);
  const dy = tf.tensor1d([1, 1, 2]);
  const before = tf.memory().numTensors;
  const twice = gradients(() => tf.add(passOn(x), passOn(x)), [x], dy); // d(2x·dy)/dx = 2·dy
  const direct = gradients(() => passOn(passOn(x)), [x], dy); // dy itself, handed through both
  assert.deepEqual(Array.from(twice.grads[0]!.dataSync()), [2, 2, 4]);
  assert.deepEqual(Array.from(direct.grads[0]!.dataSync()), [1, 1, 2]);
  assert.equal(dy.isDisposed, false);
  tf.dispose([twice.value, twice.grads[0]!, direct.value]);
  assert.equal(tf.memory().numTensors, before, "nothing left but what was handed back");
  tf.dispose([x, dy]);
});
