/**
 * Each UNet block, and two whole tiny UNets, against diffusers' own modules run in float64 (python/oracle/unet.py →
 * test/fixtures/unet/): parameters loaded by key with `loadStateDict`, outputs and gradients within 1e-5. Also: a
 * forward leaks no tensors.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors } from "../../src/io/safetensors.js";
import { Module, SHAPE_ONLY } from "../../src/models/nn/module.js";
import { loadStateDict } from "../../src/models/nn/state-dict.js";
import { Attention, BasicTransformerBlock } from "../../src/models/unet/attention.js";
import { TimestepEmbedding, Timesteps } from "../../src/models/unet/embeddings.js";
import { Downsample2D, ResnetBlock2D, Upsample2D } from "../../src/models/unet/resnet.js";
import { Transformer2DModel } from "../../src/models/unet/transformer-2d.js";
import { UNet2DConditionModel } from "../../src/models/unet/unet-2d-condition.js";
import { assertClose, FIXTURES, loadParams, readFixture, readJson } from "./fixtures.js";

before(async () => {
  await tf.setBackend("cpu");
});

/** Builds `module` shape-only, loads `file`'s parameters into it, and compares `run(io)` with `io.output`. */
async function checkBlock<M extends Module>(
  t: { diagnostic: (s: string) => void },
  file: string,
  module: M,
  run: (m: M, io: (name: string) => tf.Tensor) => tf.Tensor,
): Promise<void> {
  const fixture = await readFixture(file);
  loadParams(module, fixture, file);
  tf.tidy(() => {
    const err = assertClose(run(module, fixture.io), fixture.io("output"), file);
    t.diagnostic(`max abs error ${err.toExponential(2)}`);
  });
  module.dispose();
}

const x4 = (t: tf.Tensor) => t as tf.Tensor4D;
const x3 = (t: tf.Tensor) => t as tf.Tensor3D;

test("Timesteps gives diffusers' sinusoidal features: cos-first at shift 0, sin-first and zero-padded for odd widths", async (t) => {
  const fixture = await readFixture("embeddings.safetensors");
  tf.tidy(() => {
    const steps = fixture.io("timesteps") as tf.Tensor1D;
    const e1 = assertClose(new Timesteps(8, true, 0).forward(steps), fixture.io("proj"), "flip, shift 0");
    const e2 = assertClose(new Timesteps(7, false, 1).forward(steps), fixture.io("proj_odd_unflipped_shift1"), "odd, shift 1");
    t.diagnostic(`max abs error ${e1.toExponential(2)}, ${e2.toExponential(2)}`);
  });
});

test("TimestepEmbedding (linear_1 → SiLU → linear_2) matches diffusers", async (t) => {
  await checkBlock(t, "embeddings.safetensors", new TimestepEmbedding(SHAPE_ONLY, 8, 16), (m, io) =>
    m.forward(io("proj") as tf.Tensor2D),
  );
});

test("ResnetBlock2D without a shortcut divides by output_scale_factor", async (t) => {
  const block = new ResnetBlock2D(SHAPE_ONLY, { inChannels: 8, outChannels: 8, tembChannels: 16, groups: 4, eps: 1e-5, outputScaleFactor: 2 });
  assert.equal(block.conv_shortcut, undefined);
  await checkBlock(t, "resnet.safetensors", block, (m, io) => m.forward(x4(io("input")), io("temb") as tf.Tensor2D));
});

test("ResnetBlock2D that changes channels adds conv_shortcut", async (t) => {
  const block = new ResnetBlock2D(SHAPE_ONLY, { inChannels: 8, outChannels: 12, tembChannels: 16, groups: 4, eps: 1e-5, outputScaleFactor: 1 });
  await checkBlock(t, "resnet-shortcut.safetensors", block, (m, io) => m.forward(x4(io("input")), io("temb") as tf.Tensor2D));
});

test("Downsample2D with padding 1 halves 7×9 to 4×5", async (t) => {
  await checkBlock(t, "downsample.safetensors", new Downsample2D(SHAPE_ONLY, 4, 4, 1), (m, io) => m.forward(x4(io("input"))));
});

test("Downsample2D with padding 0 pads bottom and right first, 7×9 to 3×4", async (t) => {
  await checkBlock(t, "downsample-pad0.safetensors", new Downsample2D(SHAPE_ONLY, 4, 4, 0), (m, io) => m.forward(x4(io("input"))));
});

test("Upsample2D doubles with nearest neighbour then convolves", async (t) => {
  await checkBlock(t, "upsample.safetensors", new Upsample2D(SHAPE_ONLY, 4, 4), (m, io) => m.forward(x4(io("input"))));
});

test("Upsample2D with an output size resizes 4×5 to 7×9 picking PyTorch's nearest pixels", async (t) => {
  await checkBlock(t, "upsample-size.safetensors", new Upsample2D(SHAPE_ONLY, 4, 4), (m, io) => m.forward(x4(io("input")), [7, 9]));
});

test("Attention as self-attention (2 heads of 8) matches diffusers", async (t) => {
  const attn = new Attention(SHAPE_ONLY, { queryDim: 16, heads: 2, dimHead: 8 });
  await checkBlock(t, "attention-self.safetensors", attn, (m, io) => m.forward(x3(io("input"))));
});

test("Attention as cross-attention over a 12-wide context matches diffusers", async (t) => {
  const attn = new Attention(SHAPE_ONLY, { queryDim: 16, crossAttentionDim: 12, heads: 2, dimHead: 8 });
  await checkBlock(t, "attention-cross.safetensors", attn, (m, io) => m.forward(x3(io("input")), x3(io("context"))));
});

test("BasicTransformerBlock (self-attn, cross-attn, GEGLU feed-forward) matches diffusers", async (t) => {
  const block = new BasicTransformerBlock(SHAPE_ONLY, { dim: 16, heads: 2, dimHead: 8, crossAttentionDim: 12 });
  await checkBlock(t, "transformer-block.safetensors", block, (m, io) => m.forward(x3(io("input")), x3(io("context"))));
});

for (const [file, useLinearProjection, numLayers] of [
  ["transformer-2d-conv.safetensors", false, 1],
  ["transformer-2d-linear.safetensors", true, 2],
] as const) {
  test(`Transformer2DModel with ${useLinearProjection ? "Linear" : "1×1 Conv2d"} projections and ${numLayers} block(s) matches diffusers`, async (t) => {
    const model = new Transformer2DModel(SHAPE_ONLY, {
      inChannels: 16, heads: 2, dimHead: 8, numLayers, normNumGroups: 4, crossAttentionDim: 12, useLinearProjection,
    });
    await checkBlock(t, file, model, (m, io) => m.forward(x4(io("input")), x3(io("context"))));
  });
}

/** A tiny UNet from its diffusers-layout folder, and its reference inputs and output. */
async function loadTinyUNet(name: string) {
  const model = new UNet2DConditionModel(SHAPE_ONLY, readJson(`${name}/config.json`));
  const weights = `${FIXTURES}${name}/diffusion_pytorch_model.safetensors`;
  loadStateDict(model, (await readSafetensors(weights)).tensors, { source: weights });
  const io = await readFixture(`${name}/io.safetensors`);
  return { model, io };
}

test("a tiny SD1.5-style UNet2DConditionModel (8×8 latents, batch 2, scalar timestep) matches diffusers", async (t) => {
  const { model, io } = await loadTinyUNet("tiny-unet-sd15");
  tf.tidy(() => {
    const timestep = io.io("timestep").dataSync()[0]!;
    const out = model.forward(x4(io.io("sample")), timestep, x3(io.io("encoder_hidden_states")));
    t.diagnostic(`max abs error ${assertClose(out, io.io("output"), "tiny-unet-sd15").toExponential(2)}`);
  });
  model.dispose();
});

test("a tiny SD2-style UNet (linear projections, per-block lists, 7×9 latents, one timestep per sample) matches diffusers", async (t) => {
  const { model, io } = await loadTinyUNet("tiny-unet-sd2");
  tf.tidy(() => {
    const out = model.forward(x4(io.io("sample")), io.io("timestep"), x3(io.io("encoder_hidden_states")));
    t.diagnostic(`max abs error ${assertClose(out, io.io("output"), "tiny-unet-sd2").toExponential(2)}`);
  });
  model.dispose();
});

test("the gradient of mean(output²) through the tiny UNet matches diffusers' autograd for the latents and an attention weight", async (t) => {
  const { model, io } = await loadTinyUNet("tiny-unet-sd15");
  const target = model.up_blocks[1]!.namedParameters().find(([k]) => k === "attentions.0.transformer_blocks.0.attn2.to_q.weight")![1];
  const [sampleErr, weightErr] = tf.tidy(() => {
    const context = x3(io.io("encoder_hidden_states"));
    const loss = (sample: tf.Tensor) => tf.mean(tf.square(model.forward(x4(sample), 981, context))) as tf.Scalar;
    const [gradSample] = tf.grads(loss)([io.io("sample")]);
    const [gradWeight] = tf.grads(() => loss(io.io("sample")))([target.tensor]);
    // PyTorch stores Linear weights [out, in]; TF.js holds them [in, out].
    const expectedWeight = tf.transpose(io.io("grad_mean_square.weight"));
    return [
      assertClose(gradSample!, io.io("grad_mean_square.sample"), "d/d sample"),
      assertClose(gradWeight!, expectedWeight, "d/d attn2.to_q.weight"),
    ];
  });
  t.diagnostic(`max abs error d/d sample ${sampleErr.toExponential(2)}, d/d to_q.weight ${weightErr.toExponential(2)}`);
  model.dispose();
});

test("a forward inside tf.tidy leaves the number of live tensors unchanged", async () => {
  const { model, io } = await loadTinyUNet("tiny-unet-sd2");
  const [sample, timestep, context] = [io.io("sample"), io.io("timestep"), io.io("encoder_hidden_states")];
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    model.forward(x4(sample), timestep, x3(context));
  });
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([sample, timestep, context]);
  model.dispose();
});
