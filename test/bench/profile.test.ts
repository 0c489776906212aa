/**
 * `alignprop bench --profile`: the kernel table counts what TF.js dispatches (tf.profile is the oracle), the model
 * parts add up to the step, traced model calls are rows of their own, the profiler leaves the kernels and the phase
 * hook as it found them, and a step of the same settings dispatches the same number of kernels every time.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { graphRow, profile } from "../../src/bench/profile.js";
import { profileTrainingStep } from "../../src/bench/profile-step.js";
import { formatProfile } from "../../src/bench/profile-table.js";
import { PACKAGE_ROOT } from "../../src/models/embedded.js";
import { initBackend } from "../../src/tf/backend.js";
import { phase, PHASES, withPhaseHook } from "../../src/util/phase.js";

before(async () => {
  await initBackend("wasm-ort");
});

/** A dense layer, relu, mean, and the weight's gradient: a known op sequence on a tiny model. */
function denseGrad(x: tf.Tensor2D, w: tf.Variable, b: tf.Tensor1D): tf.Tensor {
  return tf.tidy(() => tf.variableGrads(() => tf.mean(tf.relu(tf.add(tf.matMul(x, w), b))), [w]).grads[w.name]!);
}

test("the kernel table lists exactly the kernels a dense layer's forward dispatches", () => {
  const x = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
  const w = tf.variable(tf.ones([3, 4]));
  const b = tf.zeros([4]) as tf.Tensor1D;
  const { result, profile: p } = profile(() => tf.tidy(() => tf.relu(tf.add(tf.matMul(x, w), b))));
  const calls = Object.fromEntries(p.kernels.map((k) => [k.kernel, k.calls]));
  assert.deepEqual(calls, { BatchMatMul: 1, Add: 1, Relu: 1 });
  assert.equal(p.ops, 3);
  assert.deepEqual(p.parts.map((r) => [r.part, r.ops]), [["other", 3]], "no phase was entered");
  tf.dispose([result, x, w, b]);
});

test("the kernel table of a forward and backward pass counts what tf.profile records, and the kernels are restored", async () => {
  const x = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
  const w = tf.variable(tf.randomNormal([3, 4], 0, 1, "float32", 1));
  const b = tf.zeros([4]) as tf.Tensor1D;
  const before = tf.getKernel("BatchMatMul", tf.getBackend())!.kernelFunc;
  const { result, profile: p } = profile(() => denseGrad(x, w, b));
  assert.equal(tf.getKernel("BatchMatMul", tf.getBackend())!.kernelFunc, before, "the wrapped kernel is unwrapped");
  const oracle = await tf.profile(() => denseGrad(x, w, b));
  const expected = new Map<string, number>();
  for (const k of oracle.kernels) expected.set(k.name, (expected.get(k.name) ?? 0) + 1);
  assert.deepEqual(new Map(p.kernels.map((k) => [k.kernel, k.calls])), expected);
  assert.equal(p.kernels.find((k) => k.kernel === "BatchMatMul")?.calls, 2, "forward and the weight's gradient");
  assert.ok(p.kernels.some((k) => k.kernel === "Step"), "relu's gradient");
  assert.ok(p.kernel_ms > 0 && p.kernel_ms <= p.step_ms);
  const text = formatProfile(p);
  for (const k of expected.keys()) assert.match(text, new RegExp(`^${k} `, "m"), `${k} is in the printed table`);
  tf.dispose([result, x, w, b]);
});

test("nested parts are charged their self time and the phase hook is removed afterwards", () => {
  const { profile: p } = profile(() =>
    phase("backward", () => tf.tidy(() => phase("unet_grad", () => tf.mul(tf.add(tf.ones([2]), 1), 2)).dataSync())),
  );
  const row = (name: string) => p.parts.find((r) => r.part === name)!;
  assert.equal(row("unet_grad").ops, 2, "add and mul are dispatched inside the inner part");
  assert.equal(row("backward").calls, 1);
  const sum = p.parts.reduce((s, r) => s + r.ms, 0);
  assert.ok(Math.abs(sum - p.step_ms) < 1e-6, "parts, other included, sum to the call's time");
  assert.equal(withPhaseHook((_n, f) => f(), () => 1), 1, "no hook is left installed");
});

test("a quickstart AlignProp step's parts add up to its time within 10 %, and its op count repeats", async (t) => {
  const file = join(PACKAGE_ROOT, "configs", "quickstart.json");
  // The quickstart's settings (checkpointing, fixed truncation, learning rate) on a shorter chain and batch. Gradient
  // clipping multiplies each gradient only when the norm exceeds train_max_grad_norm, a data-dependent branch: off here.
  const overrides = { sample_num_steps: 6, truncated_backprop_timestep: 4, train_batch_size: 2, train_max_grad_norm: 1e9 };
  const r = await profileTrainingStep({ file, overrides, steps: 2 });
  const p = r.profile;
  t.diagnostic(`\n${formatProfile(p, 8)}`);
  const [first, second] = r.ops_per_step;
  assert.ok(first! > 1000, `a step dispatches thousands of kernels, got ${first}`);
  assert.equal(second, first, "the same settings dispatch the same kernels");
  const named = p.parts.filter((row) => row.part !== "other");
  const other = p.parts.at(-1)!;
  assert.equal(other.part, "other");
  assert.deepEqual(named.map((row) => row.part), PHASES.filter((name) => named.some((row) => row.part === name)));
  const calls = Object.fromEntries(named.map((row) => [row.part, row.calls]));
  // The UNet runs as traced ORT graphs: its gradient graph recomputes the forward, so the chain does not checkpoint.
  assert.deepEqual(calls, { text_encoder: 1, unet_no_grad: 1, unet_grad: 2, backward: 1, vae_decode: 1, reward: 1, optimizer: 2 }, "2 kept steps");
  const graphRuns = Object.fromEntries(p.kernels.filter((k) => k.kernel.startsWith(graphRow(""))).map((k) => [k.kernel, k.calls]));
  assert.deepEqual(graphRuns, {
    [graphRow("text forward")]: 1,
    [graphRow("unet forward")]: 8,
    [graphRow("unet backward")]: 2,
    [graphRow("vae forward")]: 1,
    [graphRow("vae backward")]: 1,
  }, "each model call is one graph run: 6 sampling steps, 2 of them backpropagated, their KL base predictions, the decode");
  const partsMs = named.reduce((s, row) => s + row.ms, 0);
  assert.ok(other.ms >= 0 && other.ms <= 0.1 * p.step_ms, `the parts cover ${partsMs.toFixed(1)} of ${p.step_ms.toFixed(1)} ms`);
  assert.ok(named.every((row) => row.ms > 0), "every part takes time of its own");
  assert.equal(p.parts.reduce((s, row) => s + row.ops, 0), p.ops, "every kernel is charged to one part");
  assert.equal(p.kernels.reduce((s, k) => s + k.calls, 0), p.ops);
});
