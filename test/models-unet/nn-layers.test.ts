/**
 * The shared layers (src/models/nn/layers.ts) against PyTorch's: Linear, Conv2d at stride 1/2 and padding 0/1,
 * GroupNorm, LayerNorm (fixture nn-layers.safetensors, torch.nn's modules in float64, from python/oracle/unet.py).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { Conv2d, GroupNorm, LayerNorm, Linear } from "../../src/models/nn/layers.js";
import { Module, SHAPE_ONLY } from "../../src/models/nn/module.js";
import { assertClose, loadParams, readFixture, type Fixture } from "./fixtures.js";

/** The layers of the fixture, under the keys it stores them with. */
class Layers extends Module {
  readonly linear = new Linear(SHAPE_ONLY, 6, 7);
  readonly linear_no_bias = new Linear(SHAPE_ONLY, 6, 7, false);
  readonly conv_k3_s1_p1 = new Conv2d(SHAPE_ONLY, 6, 4, 3, 1, 1);
  readonly conv_k3_s1_p0 = new Conv2d(SHAPE_ONLY, 6, 4, 3, 1, 0);
  readonly conv_k1_s1_p0 = new Conv2d(SHAPE_ONLY, 6, 4, 1, 1, 0);
  readonly conv_k3_s2_p1 = new Conv2d(SHAPE_ONLY, 6, 4, 3, 2, 1);
  readonly conv_k3_s2_p0 = new Conv2d(SHAPE_ONLY, 6, 4, 3, 2, 0);
  readonly group_norm = new GroupNorm(SHAPE_ONLY, 4, 8, 1e-5);
  readonly group_norm_eps6 = new GroupNorm(SHAPE_ONLY, 2, 8, 1e-6);
  readonly layer_norm = new LayerNorm(SHAPE_ONLY, 6, 1e-5);
}

let fixture: Fixture;
const layers = new Layers();

before(async () => {
  await tf.setBackend("cpu");
  fixture = await readFixture("nn-layers.safetensors");
  loadParams(layers, fixture, "nn-layers.safetensors");
});

test("Linear on a [B, N, in] input matches torch.nn.Linear, with and without bias", (t) => {
  tf.tidy(() => {
    const x = fixture.io("linear.input");
    const e1 = assertClose(layers.linear.forward(x), fixture.io("linear.output"), "linear");
    const e2 = assertClose(layers.linear_no_bias.forward(x), fixture.io("linear_no_bias.output"), "linear_no_bias");
    t.diagnostic(`max abs error: with bias ${e1.toExponential(2)}, without ${e2.toExponential(2)}`);
  });
});

for (const name of ["conv_k3_s1_p1", "conv_k3_s1_p0", "conv_k1_s1_p0", "conv_k3_s2_p1", "conv_k3_s2_p0"] as const) {
  test(`Conv2d ${name} on a 7×9 NHWC image matches torch.nn.Conv2d, output size included`, (t) => {
    tf.tidy(() => {
      const y = layers[name].forward(fixture.io("conv.input") as tf.Tensor4D);
      t.diagnostic(`max abs error ${assertClose(y, fixture.io(`${name}.output`), name).toExponential(2)}`);
    });
  });
}

test("GroupNorm matches torch.nn.GroupNorm for 4 groups at eps 1e-5 and 2 groups at eps 1e-6", (t) => {
  tf.tidy(() => {
    const x = fixture.io("group_norm.input");
    const e1 = assertClose(layers.group_norm.forward(x), fixture.io("group_norm.output"), "group_norm");
    const e2 = assertClose(layers.group_norm_eps6.forward(x), fixture.io("group_norm_eps6.output"), "group_norm_eps6");
    t.diagnostic(`max abs error: ${e1.toExponential(2)}, ${e2.toExponential(2)}`);
  });
});

test("LayerNorm matches torch.nn.LayerNorm over the last axis", (t) => {
  tf.tidy(() => {
    const y = layers.layer_norm.forward(fixture.io("layer_norm.input"));
    t.diagnostic(`max abs error ${assertClose(y, fixture.io("layer_norm.output"), "layer_norm").toExponential(2)}`);
  });
});

test("a strided Conv2d has a gradient with respect to its input of the input's shape", () => {
  tf.tidy(() => {
    const x = fixture.io("conv.input") as tf.Tensor4D;
    const [g] = tf.grads((input: tf.Tensor) => tf.sum(layers.conv_k3_s2_p1.forward(input as tf.Tensor4D)))([x]);
    assert.deepEqual(g!.shape, x.shape);
    assert.ok(Number.isFinite(tf.sum(tf.abs(g!)).dataSync()[0]));
  });
});

test("a Conv2d whose filter is trained takes its bias inside the conv (FusedConv2D), with torch's output and conv + add's gradients; a frozen one runs Conv2D", async () => {
  for (const name of ["conv_k3_s1_p1", "conv_k3_s2_p0"] as const) {
    const conv = layers[name];
    const [w, b] = [conv.weight.tensor, conv.bias!.tensor];
    const x = fixture.io("conv.input") as tf.Tensor4D;
    const kernels = async () => (await tf.profile(() => conv.forward(x))).kernelNames;
    assert.ok((await kernels()).includes("Conv2D"), `${name} frozen runs Conv2D`);
    w.trainable = b.trainable = true;
    try {
      assert.ok((await kernels()).includes("FusedConv2D"), `${name} trained runs FusedConv2D`);
      tf.tidy(() => {
        assertClose(conv.forward(x), fixture.io(`${name}.output`), name);
        const r = tf.randomNormal(conv.forward(x).shape, 0, 1, "float32", 5);
        const loss = () => tf.sum(tf.mul(conv.forward(x), r)) as tf.Scalar;
        const { grads } = tf.variableGrads(loss, [w, b]);
        const [dx] = tf.grads((input: tf.Tensor) => tf.sum(tf.mul(conv.forward(input as tf.Tensor4D), r)))([x]);
        const pad = conv.padding === 0 ? "valid" : conv.padding;
        const reference = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(tf.add(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, conv.stride, pad), bb), r));
        const [rx, rw, rb] = tf.grads(reference)([x, w, b]);
        assertClose(dx!, rx!, `${name} d input`);
        assertClose(grads[w.name]!, rw!, `${name} d weight`);
        assertClose(grads[b.name]!, rb!, `${name} d bias`);
      });
    } finally {
      w.trainable = b.trainable = false;
    }
  }
});
