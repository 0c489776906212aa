/**
 * checkpointCall (src/tf/checkpoint.ts): a block whose backward pass re-runs it gives the plain block's gradients
 * with a smaller tape, under either backward pass; and traced, the re-run forward costs no graph nodes (the recorder
 * merges the repeated kernels), while the trace itself peaks lower.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { checkpointCall } from "../../src/tf/checkpoint.js";
import { gradients } from "../../src/tf/gradients.js";
import { traceGraph } from "../../src/tf/ort/trace.js";
import { compileTraced, runCompiled } from "../../src/tf/ort/traced-run.js";
import { randomValues, relativeErrors } from "./compare.js";

before(async () => {
  await initBackend("wasm-ort");
});

const BLOCKS = 4;

/** Self-attention blocks on [2, 64, 8] with a learned projection and bias each: activations dwarf the weights. */
function problem() {
  const weights = Array.from({ length: BLOCKS }, (_, i) => tf.variable(tf.mul(tf.tensor2d(randomValues([8, 8], 20 + i), [8, 8]), 0.3)));
  const biases = Array.from({ length: BLOCKS }, (_, i) => tf.variable(tf.tensor1d(randomValues([8], 40 + i))));
  const input = tf.tensor3d(randomValues([2, 64, 8], 5), [2, 64, 8]);
  const block = (i: number) => (x: tf.Tensor) =>
    tf.tidy(() => {
      const q = tf.add(tf.reshape(tf.matMul(tf.reshape(x, [-1, 8]), weights[i]!), [2, 64, 8]), biases[i]!) as tf.Tensor3D;
      const p = tf.softmax(tf.mul(tf.matMul(q, x as tf.Tensor3D, false, true), 0.35)); // [2, 64, 64]
      return tf.add(x, tf.tanh(tf.matMul(p, x as tf.Tensor3D)));
    });
  const loss = (checkpoint: boolean) => () => {
    let x: tf.Tensor = input;
    for (let i = 0; i < BLOCKS; i++) x = checkpoint ? checkpointCall(block(i), [x], [weights[i]!, biases[i]!]) : block(i)(x);
    return tf.mean(tf.square(x));
  };
  return { loss, xs: [input, ...weights, ...biases] };
}

const release = (ts: (tf.Tensor | null | undefined)[]) => tf.dispose(ts.filter((t): t is tf.Tensor => t != null));

test("checkpointed blocks give the plain blocks' gradients bit for bit, under gradients() and TF.js's pass, with a lower peak", async () => {
  const { loss, xs } = problem();
  const before = tf.memory().numTensors;
  const run = (pass: typeof gradients, checkpoint: boolean) => {
    let grads: (tf.Tensor | null | undefined)[] = [];
    const profile = tf.profile(() => {
      const out = pass(loss(checkpoint), xs);
      out.value.dispose();
      grads = out.grads;
    });
    return profile.then(({ peakBytes }) => ({ grads, peakBytes }));
  };
  const engineGradients: typeof gradients = (f, x, dy) => {
    const { value, grads } = tf.engine().gradients(f, [...x], dy, true);
    return { value, grads: grads.map((g) => g ?? undefined) };
  };
  const plain = await run(gradients, false);
  const ours = await run(gradients, true);
  const underTfjs = await run(engineGradients, true);
  for (let i = 0; i < xs.length; i++) {
    assert.deepEqual(ours.grads[i]!.dataSync(), plain.grads[i]!.dataSync(), `gradient ${i} under gradients()`);
    assert.deepEqual(underTfjs.grads[i]!.dataSync(), plain.grads[i]!.dataSync(), `gradient ${i} under engine.gradients`);
  }
  assert.ok(ours.peakBytes < 0.7 * plain.peakBytes, `peak ${ours.peakBytes} B checkpointed vs ${plain.peakBytes} B plain`);
  release([...plain.grads, ...ours.grads, ...underTfjs.grads]);
  assert.equal(tf.memory().numTensors, before, "nothing but the gradients was handed back");
});

test("a traced gradient of checkpointed blocks is the plain one's graph, traced at a lower peak", async () => {
  const { loss, xs } = problem();
  const gradsOf = (checkpoint: boolean) => () => gradients(loss(checkpoint), xs).grads.map((g) => g!);
  const trace = async (checkpoint: boolean) => {
    let nodes = 0;
    const { peakBytes } = await tf.profile(() => void (nodes = traceGraph(xs, gradsOf(checkpoint)).graph.nodes.length));
    return { nodes, peakBytes };
  };
  const plain = await trace(false);
  const checkpointed = await trace(true);
  assert.equal(checkpointed.nodes, plain.nodes, "the re-run forward adds no node");
  assert.ok(checkpointed.peakBytes < 0.7 * plain.peakBytes, `trace peak ${checkpointed.peakBytes} B vs ${plain.peakBytes} B`);

  const expected = tf.tidy(gradsOf(false));
  const actual = runCompiled(compileTraced("checkpoint-call test", xs, gradsOf(true)), xs);
  const errors = relativeErrors(actual.map((t) => t.dataSync() as Float32Array), expected.map((t) => t.dataSync() as Float32Array));
  errors.forEach((e, i) => assert.ok(e < 1e-5, `gradient ${i}: relative error ${e}`));
  release([...expected, ...actual]);
});
