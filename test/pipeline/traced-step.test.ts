/**
 * A whole training step as one traced ONNX Runtime graph (tracedGradients, src/tf/ort/traced-call.ts), as
 * pretraining and the bench run the UNet: the loss and every weight's gradient of the tiny-shapes UNet against the
 * same step as TF.js ops (`ALIGNPROP_ORT_GRAPHS=0`), after a weight update too (the weights are read, not baked), an
 * x the loss does not reach, and no tensor left behind per step.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { embeddedModel, TINY_SHAPES } from "../../src/models/embedded.js";
import { disposePipeline, loadPipeline, type Pipeline } from "../../src/models/pipeline.js";
import { encodePrompts } from "../../src/diffusion/pipeline-sample.js";
import { initBackend } from "../../src/tf/backend.js";
import { instanceId, releaseTraced, tracedGradients } from "../../src/tf/ort/traced-call.js";
import { cachedTraced } from "../../src/tf/ort/traced-run.js";
import { withTfjsOps } from "../helpers/tfjs-ops.js";
import { assertManyClose, randomValues } from "../tf/compare.js";

/** The loss and the gradients taken together as one vector, relative to its largest value. */
const TOLERANCE = 1e-5;
/** Each weight's gradient on its own scale (a small layer's is ~1e-3 of the largest; rounding reaches ~1e-5 of it). */
const TENSOR_TOLERANCE = 1e-4;

let p: Pipeline;
let params: tf.Variable[];
let inputs: { sample: tf.Tensor4D; context: tf.Tensor3D; target: tf.Tensor4D };

const seeded = (shape: number[], seed: number) => tf.tensor(randomValues(shape, seed), shape);

before(async () => {
  await initBackend("wasm-ort");
  p = await loadPipeline(embeddedModel(TINY_SHAPES)!.dir);
  params = p.unet.namedParameters().map(([, param]) => param.tensor as tf.Variable);
  for (const v of params) v.trainable = true; // as runStage makes them: checkpointed blocks differentiate these
  inputs = {
    sample: seeded([2, 8, 8, 4], 1) as tf.Tensor4D,
    context: encodePrompts(p, ["", "a red circle"]),
    target: seeded([2, 8, 8, 4], 2) as tf.Tensor4D,
  };
});

after(() => {
  tf.dispose(Object.values(inputs));
  disposePipeline(p);
});

const loss = () => tf.losses.meanSquaredError(inputs.target, p.unet.forward(inputs.sample, 321, inputs.context)) as tf.Scalar;
const key = () => `test unet step|${instanceId(p.unet)}`;

/** [loss, ...grads] as arrays, traced (one graph) or as TF.js ops. */
function step(mode: "traced" | "ops", xs: tf.Tensor[] = params): { values: Float32Array[]; unreached: number[] } {
  const run = () =>
    tf.tidy(() => {
      const { value, grads } = tracedGradients(key(), Object.values(inputs), xs, loss);
      return {
        values: [value, ...grads.flatMap((g) => (g ? [g] : []))].map((t) => t.dataSync() as Float32Array),
        unreached: grads.flatMap((g, i) => (g ? [] : [i])),
      };
    });
  return mode === "ops" ? withTfjsOps(run) : run();
}

const stepKey = () => `${key()}|step|${[...Object.values(inputs), ...params].map((x) => `${x.dtype}[${x.shape}]`).join(",")}`;

function assertSameStep(what: string, t: { diagnostic(m: string): void }) {
  const [traced, ops] = [step("traced"), step("ops")];
  assert.ok(cachedTraced(stepKey()), "the step ran as a traced graph");
  assertManyClose(what, traced.values, ops.values, t, { together: TOLERANCE, each: TENSOR_TOLERANCE });
  assert.ok(Math.abs(traced.values[0]![0]!) > 0.1, "the loss is not trivially small");
}

test("a UNet training step as one traced graph gives the loss and every weight's gradient of the TF.js ops", (t) => {
  assertSameStep("tiny-shapes UNet, all weights", t);
});

test("the traced step reads the weights as they are now: after an update it matches the ops again", (t) => {
  const conv = p.unet.conv_in.weight.tensor as tf.Variable;
  const before = tf.tidy(() => conv.clone());
  try {
    const lossBefore = step("traced").values[0]![0]!;
    tf.tidy(() => conv.assign(tf.add(conv, tf.mul(seeded(conv.shape, 3), 0.3))));
    const lossAfter = step("traced").values[0]![0]!;
    assert.ok(Math.abs(lossAfter - lossBefore) > 1e-3 * Math.abs(lossBefore), `the loss moved with the weight: ${lossBefore} → ${lossAfter}`);
    assertSameStep("after an update of conv_in", t);
  } finally {
    conv.assign(before);
    before.dispose();
  }
});

test("an x the loss does not depend on has no gradient, as with TF.js ops; a step leaves no tensor behind", () => {
  const stray = tf.variable(tf.zeros([3]));
  try {
    const xs = [params[0]!, stray, params[1]!];
    assert.deepEqual(step("traced", xs).unreached, [1]);
    assert.deepEqual(step("ops", xs).unreached, [1]);
    const counts = Array.from({ length: 3 }, () => (step("traced"), tf.memory().numTensors));
    assert.equal(new Set(counts).size, 1, `tensors alive after each step: ${counts}`);
  } finally {
    stray.dispose();
  }
});

test("releaseTraced lets a step's graph go; the next step traces it again", (t) => {
  step("traced");
  assert.ok(cachedTraced(stepKey()));
  releaseTraced(key());
  assert.equal(cachedTraced(stepKey()), undefined);
  assertSameStep("traced again after the release", t);
});
