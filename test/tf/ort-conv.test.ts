/**
 * Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter and FusedConv2D through ONNX Runtime on wasm match the stock cpu
 * kernels (stride 1/2, same/valid/explicit padding, 1×1 and 3×3), gradients through tf.grads included.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { nchwcBlockSize } from "../../src/tf/ort/nchwc.js";
import { ortSessions } from "../../src/tf/ort/ort-kernel.js";
import { assertMatchesCpu, gradsOf } from "./compare.js";

before(async () => {
  await initBackend("wasm-ort");
});

const ortRan = (...kernelNames: string[]) => {
  for (const name of kernelNames) {
    assert.ok(ortSessions().keys().some((k) => k.startsWith(`${name}|`)), `no ${name} session was used`);
  }
};

type Pad = "same" | "valid" | number | tf.backend_util.ExplicitPadding;
const CASES: { stride: number; pad: Pad; k: number; hw: number }[] = [
  { stride: 1, pad: "same", k: 3, hw: 8 },
  { stride: 2, pad: "same", k: 3, hw: 8 },
  { stride: 2, pad: "same", k: 3, hw: 9 },
  { stride: 1, pad: "valid", k: 3, hw: 9 },
  { stride: 2, pad: "valid", k: 3, hw: 8 },
  { stride: 1, pad: "same", k: 1, hw: 8 },
  { stride: 2, pad: "valid", k: 1, hw: 9 },
  { stride: 1, pad: 1, k: 3, hw: 7 },
  { stride: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]], k: 3, hw: 9 },
];

for (const { stride, pad, k, hw } of CASES) {
  test(`a ${k}×${k} conv with stride ${stride} and pad ${JSON.stringify(pad)} on ${hw}×${hw} matches cpu, and so do its gradients`, async () => {
    const shapes = [[2, hw, hw, 3], [k, k, 3, 5]];
    const conv = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
    await assertMatchesCpu("wasm", (x, w) => conv(x!, w!), shapes);
    await assertMatchesCpu("wasm", gradsOf((x, w) => conv(x!, w!)), shapes);
    ortRan("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter");
  });
}

test("a dilated conv matches cpu", async () => {
  await assertMatchesCpu("wasm", (x, w) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same", "NHWC", 2), [[2, 9, 9, 3], [3, 3, 3, 4]]);
});

test("a stride-2 transposed conv (Conv2DBackpropInput) matches cpu", async () => {
  await assertMatchesCpu(
    "wasm",
    (x, w) => tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, 16, 16, 3], 2, "same"),
    [[2, 8, 8, 4], [3, 3, 3, 4]],
  );
});

for (const activation of ["linear", "relu", "relu6", "elu", "leakyrelu", "sigmoid"] as tf.fused.Activation[]) {
  test(`a fused conv with bias and ${activation} matches cpu, and so do its gradients`, async () => {
    const conv = (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: "same", bias, activation, leakyreluAlpha: 0.3 });
    const shapes = [[2, 9, 9, 3], [3, 3, 3, 4], [4]];
    await assertMatchesCpu("wasm", (x, w, b) => conv(x!, w!, b!), shapes);
    await assertMatchesCpu("wasm", gradsOf((x, w, b) => conv(x!, w!, b!)), shapes);
    ortRan("FusedConv2D");
  });
}

test("a fused conv with an NHWC-shaped bias and prelu matches cpu", async () => {
  const conv = (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor, slopes: tf.Tensor) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "valid", bias, activation: "prelu", preluActivationWeights: slopes });
  await assertMatchesCpu("wasm", (x, w, b, s) => conv(x!, w!, b!, s!), [[2, 8, 8, 3], [3, 3, 3, 4], [1, 1, 4], [4]]);
});

test("convs whose channels fill NCHWc blocks run blocked with the filter reordered in the graph, and match cpu with their gradients", async () => {
  const block = nchwcBlockSize();
  const [cin, cout] = [2 * block, 3 * block];
  for (const [stride, pad] of [
    [1, "same"],
    [2, "same"],
    [1, "valid"],
  ] as const) {
    const shapes = [[2, 9, 9, cin], [3, 3, cin, cout]];
    const conv = (x: tf.Tensor, w: tf.Tensor) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad);
    await assertMatchesCpu("wasm", (x, w) => conv(x!, w!), shapes);
    await assertMatchesCpu("wasm", gradsOf((x, w) => conv(x!, w!)), shapes);
  }
  const fused = (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
    tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "same", bias, activation: "relu" });
  await assertMatchesCpu("wasm", (x, w, b) => fused(x!, w!, b!), [[2, 8, 8, cin], [3, 3, cin, cout], [cout]]);
  for (const kernel of ["Conv2D", "Conv2DBackpropInput", "FusedConv2D"]) {
    assert.ok(ortSessions().keys().some((k) => k.startsWith(`${kernel}|`) && k.endsWith("|nchwc")), `${kernel} ran blocked`);
  }
});
