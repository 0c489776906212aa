/** BatchMatMul and _FusedMatMul through ONNX Runtime on wasm match the stock cpu kernels, gradients included. */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { ortSessions } from "../../src/tf/ort/ort-kernel.js";
import { assertMatchesCpu, gradsOf } from "./compare.js";

before(async () => {
  await initBackend("wasm-ort");
});

const ortRan = (kernelName: string) =>
  assert.ok(ortSessions().keys().some((k) => k.startsWith(`${kernelName}|`)), `no ${kernelName} session was used`);

const ACTIVATIONS: tf.fused.Activation[] = ["linear", "relu", "relu6", "elu", "leakyrelu", "sigmoid"];

test("a 2-D matmul matches cpu", async () => {
  await assertMatchesCpu("wasm", (a, b) => tf.matMul(a!, b!), [[17, 33], [33, 9]]);
  ortRan("BatchMatMul");
});

for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  test(`a batched matmul with transposeA=${ta} transposeB=${tb} matches cpu, and so do its gradients`, async () => {
    const a = ta ? [3, 11, 6] : [3, 6, 11];
    const b = tb ? [3, 5, 11] : [3, 11, 5];
    await assertMatchesCpu("wasm", (x, y) => tf.matMul(x!, y!, ta, tb), [a, b]);
    await assertMatchesCpu("wasm", gradsOf((x, y) => tf.matMul(x!, y!, ta, tb)), [a, b]);
  });
}

test("a matmul broadcasting a rank-3 batch against a rank-4 one matches cpu", async () => {
  await assertMatchesCpu("wasm", (a, b) => tf.matMul(a!, b!, false, true), [[2, 3, 4, 7], [3, 5, 7]]);
});

for (const activation of ACTIVATIONS) {
  test(`a fused matmul with bias and ${activation} matches cpu, and so do its gradients`, async () => {
    const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor) =>
      tf.fused.matMul({ a, b, bias, activation, leakyreluAlpha: 0.3 });
    await assertMatchesCpu("wasm", (a, b, bias) => f(a!, b!, bias!), [[9, 13], [13, 6], [6]]);
    await assertMatchesCpu("wasm", gradsOf((a, b, bias) => f(a!, b!, bias!)), [[9, 13], [13, 6], [6]]);
    ortRan("_FusedMatMul");
  });
}

test("a fused matmul with transposes, a full-shape bias and prelu matches cpu", async () => {
  const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor, slopes: tf.Tensor) =>
    tf.fused.matMul({ a, b, bias, transposeA: true, transposeB: true, activation: "prelu", preluActivationWeights: slopes });
  await assertMatchesCpu("wasm", (a, b, bias, s) => f(a!, b!, bias!, s!), [[2, 13, 9], [2, 6, 13], [2, 9, 6], [6]]);
});

test("an empty matmul is handed to the stock wasm kernel", async () => {
  await tf.setBackend("wasm");
  const y = tf.tidy(() => tf.matMul(tf.zeros([0, 3]), tf.ones([3, 2])));
  assert.deepEqual(y.shape, [0, 2]);
  assert.ok(!ortSessions().keys().some((k) => k.includes("0x3")), "ORT was given an empty tensor");
  y.dispose();
});

test("an int32 matmul is handed to the stock wasm kernel, whose own error says so", async () => {
  await tf.setBackend("wasm");
  const a = tf.tensor2d([[1, 2]], [1, 2], "int32");
  assert.throws(() => tf.matMul(a, a.transpose()), /BatchMatMul for non non-float32 tensors not yet supported/);
  a.dispose();
});
