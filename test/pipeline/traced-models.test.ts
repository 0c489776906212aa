/**
 * The embedded default, models/tiny-shapes, run as traced ONNX Runtime graphs (src/models/traced.ts) on wasm-ort,
 * against the same models run as TF.js ops: the UNet with LoRA (forward, gradients for the sample and the adapters,
 * scale 0, merged, a frozen weight reassigned), the VAE decoder (forward, gradient for the latents), the text
 * encoder, and the AlignProp chain's value and LoRA gradients with `ALIGNPROP_ORT_GRAPHS=0` as the reference. All
 * within 1e-5 relative (max |traced − TF.js| / max |TF.js|), and without leaking tensors over repeated calls.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { chainGradients, type Chain } from "../../src/diffusion/differentiable-sampler.js";
import { decodeLatents, encodePrompts } from "../../src/diffusion/pipeline-sample.js";
import { embeddedModel, TINY_SHAPES } from "../../src/models/embedded.js";
import { attachLora, DEFAULT_LORA_CONFIG, type LoraAdapters } from "../../src/models/lora.js";
import { disposePipeline, loadPipeline, type Pipeline } from "../../src/models/pipeline.js";
import { textLastHiddenState, unetForward, vaeDecode } from "../../src/models/traced.js";
import { brightness } from "../../src/rewards/builtin.js";
import { initBackend } from "../../src/tf/backend.js";
import { tracedGraphsActive } from "../../src/tf/ort/traced-call.js";
import { withTfjsOps } from "../helpers/tfjs-ops.js";
import { assertManyClose, dispatched, randomValues, relativeErrors } from "../tf/compare.js";

const TOLERANCE = 1e-5;
/**
 * Many gradient tensors (the LoRA A and B of every layer) compare as one vector within TOLERANCE, and each on its own
 * scale within this: a small layer's gradient is ~4e-3 of the largest, and float32 rounding through a chain of
 * guided steps reaches ~2e-5 of its own scale, both ways of computing it being equally exact.
 */
const TENSOR_TOLERANCE = 1e-4;

let p: Pipeline;
let lora: LoraAdapters;
/** UNet inputs: guided batch 2 (as the sampler calls it), the prompts' hidden states, a weighting of the output. */
let sample: tf.Tensor4D;
let context: tf.Tensor3D;
let dy: tf.Tensor4D;

const seeded = (shape: number[], seed: number, scale = 1) => tf.tidy(() => tf.mul(tf.tensor(randomValues(shape, seed), shape), scale));

before(async () => {
  await initBackend("wasm-ort");
  p = await loadPipeline(embeddedModel(TINY_SHAPES)!.dir);
  lora = attachLora(p.unet, DEFAULT_LORA_CONFIG, { seed: 4 });
  // B starts at zero; give it values, as training would, so the adapters change the output and A has gradients.
  lora.namedParameters().forEach(([name, param], i) => {
    if (name.endsWith("up.weight")) tf.tidy(() => param.tensor.assign(seeded(param.tfShape, 100 + i, 0.2)));
  });
  sample = seeded([2, 8, 8, 4], 1) as tf.Tensor4D;
  context = encodePrompts(p, ["", "a red circle"]);
  dy = seeded([2, 8, 8, 4], 2) as tf.Tensor4D;
});

after(() => {
  tf.dispose([sample, context, dy]);
  lora.dispose();
  disposePipeline(p);
});

const read = (ts: readonly tf.Tensor[]) => ts.map((t) => t.dataSync() as Float32Array);

/** The worst relative error over pairs of tensors, each against its expected tensor's own scale. */
const worstError = (actual: readonly tf.Tensor[], expected: readonly tf.Tensor[]): number =>
  Math.max(...relativeErrors(read(actual), read(expected)));

type Diagnostic = { diagnostic(message: string): void };

function assertClose(what: string, actual: readonly tf.Tensor[], expected: readonly tf.Tensor[], t: Diagnostic) {
  const err = worstError(actual, expected);
  t.diagnostic(`${what}: relative error ${err.toExponential(2)}`);
  assert.ok(err <= TOLERANCE, `${what}: relative error ${err.toExponential(2)} > ${TOLERANCE}`);
}

/** Gradients for many tensors: together within TOLERANCE, each within TENSOR_TOLERANCE of its own scale. */
const assertGradsClose = (what: string, actual: readonly tf.Tensor[], expected: readonly tf.Tensor[], t: Diagnostic) =>
  assertManyClose(what, read(actual), read(expected), t, { together: TOLERANCE, each: TENSOR_TOLERANCE });

const T = 501;
const traced = (x = sample, t = T) => unetForward(p.unet, x, t, context);
const eager = (x = sample, t = T) => p.unet.forward(x, t, context);

/** d sum(unet(x, t) · dy) / d[x, LoRA A and B]. */
function unetGrads(forward: (x: tf.Tensor4D, t: number) => tf.Tensor4D, x = sample, t = T): tf.Tensor[] {
  return tf.tidy(() => {
    const { value, grads } = tf.engine().gradients(() => tf.sum(tf.mul(forward(x, t), dy)), [x, ...lora.trainableVariables()]);
    value.dispose();
    return grads;
  });
}

/** The number of tensors alive after `f`'s results are disposed, for each of `times` calls. */
function tensorsAfterEach(times: number, f: () => tf.Tensor | tf.Tensor[]): number[] {
  return Array.from({ length: times }, () => {
    tf.dispose(f());
    return tf.memory().numTensors;
  });
}

test("traced graphs are on: wasm-ort, ALIGNPROP_ORT_GRAPHS unset", () => {
  assert.equal(process.env.ALIGNPROP_ORT_GRAPHS, undefined);
  assert.equal(tracedGraphsActive(), true);
  assert.equal(withTfjsOps(tracedGraphsActive), false);
});

test("the UNet with LoRA: the traced forward equals unet.forward and dispatches no model kernel once compiled", (t) => {
  tf.dispose(traced()); // traced at `sample`, run at other latents and another timestep
  const x = seeded([2, 8, 8, 4], 3) as tf.Tensor4D;
  const { result: ours, kernels } = dispatched(() => traced(x, 901));
  const theirs = eager(x, 901);
  assertClose("UNet forward", [ours], [theirs], t);
  assert.ok(!kernels.has("Conv2D") && !kernels.has("BatchMatMul") && kernels.size <= 3, `dispatched ${[...kernels].join(", ")}`);
  tf.dispose([ours, theirs, x]);
});

test("the UNet with LoRA: gradients for the sample and every LoRA A and B equal TF.js's, away from where they were traced", (t) => {
  tf.dispose(unetGrads(traced)); // the gradient graph is traced here, at `sample`, t = 501 and these LoRA weights
  const x = seeded([2, 8, 8, 4], 4) as tf.Tensor4D;
  const a = lora.trainableVariables()[0]!;
  const original = a.clone();
  try {
    tf.tidy(() => a.assign(tf.mul(original, 1.5)));
    const ours = unetGrads(traced, x, 901);
    const theirs = unetGrads(eager, x, 901);
    assertClose("d/d sample", ours.slice(0, 1), theirs.slice(0, 1), t);
    assertGradsClose("d/d LoRA", ours.slice(1), theirs.slice(1), t);
    tf.dispose([...ours, ...theirs]);
  } finally {
    a.assign(original);
    tf.dispose([original, x]);
  }
});

test("repeated traced UNet calls, forward and with gradients, leave no tensor behind", () => {
  const forward = tensorsAfterEach(3, traced);
  const grads = tensorsAfterEach(3, () => unetGrads(traced));
  assert.deepEqual(forward, [forward[0], forward[0], forward[0]]);
  assert.deepEqual(grads, [forward[0], forward[0], forward[0]]);
});

test("at lora scale 0 (the KL term's base) the traced UNet is the base UNet, not the adapted graph", (t) => {
  const adapted = traced();
  const [ours, theirs] = lora.withLoraScale(0, () => [traced(), eager()]);
  assertClose("UNet forward at scale 0", [ours!], [theirs!], t);
  assert.ok(worstError([adapted], [theirs!]) > 1e-3, "the adapters change the output");
  tf.dispose([adapted, ours!, theirs!]);
});

test("merged adapters: each merge is a new trace, equal to the merged TF.js forward", (t) => {
  const ups = lora.namedParameters().filter(([name]) => name.endsWith("up.weight"));
  const original = ups.map(([, param]) => param.tensor.clone());
  try {
    for (const round of [0, 1]) {
      if (round === 1) {
        // New B, merged again: the graph must see the new weights, not the first merge's.
        lora.unmerge();
        ups.forEach(([, param], i) => tf.tidy(() => param.tensor.assign(seeded(param.tfShape, 300 + i, 0.2))));
      }
      lora.merge();
      const [ours, theirs] = [traced(), eager()];
      assertClose(`merge ${round + 1}: UNet forward`, [ours], [theirs], t);
      tf.dispose([ours, theirs]);
    }
  } finally {
    lora.unmerge();
    ups.forEach(([, param], i) => param.tensor.assign(original[i]!));
    tf.dispose(original);
  }
});

test("a frozen weight given new values (assign) is a new trace with the new values", (t) => {
  const param = p.unet.namedParameters().find(([name]) => name === "conv_in.weight")![1];
  const original = param.tensor.clone();
  const before = traced();
  try {
    tf.tidy(() => param.tensor.assign(tf.mul(original, -0.5)));
    const [ours, theirs] = [traced(), eager()];
    assertClose("UNet forward after assign", [ours], [theirs], t);
    assert.ok(worstError([before], [theirs]) > 1e-3, "the new weight changes the output");
    tf.dispose([ours, theirs]);
  } finally {
    param.tensor.assign(original);
    tf.dispose([original, before]);
  }
});

test("the VAE decoder: forward and the gradient for the latents equal vae.decode's", (t) => {
  const [latents, others] = [seeded([1, 8, 8, 4], 5, 2) as tf.Tensor4D, seeded([1, 8, 8, 4], 6, 2) as tf.Tensor4D];
  const weight = seeded([1, 32, 32, 3], 7);
  const run = (decode: (z: tf.Tensor4D) => tf.Tensor4D, at = latents) =>
    tf.tidy(() => [decode(at), tf.grad((z: tf.Tensor) => tf.sum(tf.mul(decode(z as tf.Tensor4D), weight)))(at)]);
  tf.dispose(run((z) => vaeDecode(p.vae, z), others)); // traced at other latents
  const ours = run((z) => vaeDecode(p.vae, z));
  const theirs = run((z) => p.vae.decode(z));
  assertClose("VAE decode", ours.slice(0, 1), theirs.slice(0, 1), t);
  assertClose("d/d latents", ours.slice(1), theirs.slice(1), t);
  const counts = tensorsAfterEach(3, () => run((z) => vaeDecode(p.vae, z)));
  assert.deepEqual(counts, [counts[0], counts[0], counts[0]]);
  tf.dispose([...ours, ...theirs, latents, others, weight]);
});

test("the text encoder: traced last hidden states equal textEncoder.forward's (traced for other prompts)", (t) => {
  const idsOf = (prompts: string[]) => {
    const { ids, shape } = p.tokenizer.batch(prompts);
    return tf.tensor2d(ids, shape, "int32");
  };
  const [first, ids] = [idsOf(["", "a green triangle"]), idsOf(["a red circle", "a large blue square in the top left corner"])];
  tf.dispose(textLastHiddenState(p.textEncoder, first));
  const ours = textLastHiddenState(p.textEncoder, ids);
  const theirs = p.textEncoder.forward(ids).lastHiddenState;
  assertClose("text encoder", [ours], [theirs], t);
  tf.dispose([ours, theirs, first, ids]);
});

test("the AlignProp chain (2 DDIM steps, guidance, η = 1): value and LoRA gradients equal ALIGNPROP_ORT_GRAPHS=0's, KL off and on, first step kept or not", (t) => {
  p.scheduler.setTimesteps(2);
  const chain: Chain = {
    unet: p.unet,
    scheduler: p.scheduler,
    context,
    guidanceScale: 5,
    eta: 1,
    noise: [seeded([1, 8, 8, 4], 7), seeded([1, 8, 8, 4], 8)] as tf.Tensor4D[],
  };
  const xT = seeded([1, 8, 8, 4], 9) as tf.Tensor4D;
  const loss = (x0: tf.Tensor4D) => tf.tidy(() => tf.neg(tf.mean(brightness.score(decodeLatents(p.vae, x0), ["a red circle"], [{}]).rewards)) as tf.Scalar);
  const vars = lora.trainableVariables();
  const kl = { adapters: lora, coeff: 2 };
  const cases: { keep: boolean[]; kl?: typeof kl }[] = [{ keep: [true, true] }, { keep: [true, true], kl }, { keep: [false, true], kl }];
  try {
    for (const c of cases) {
      const what = `keep [${c.keep}], kl ${c.kl ? "on" : "off"}`;
      // Checkpointing on: the traced run takes the one-tape path, the reference recomputes each kept step.
      const run = () => tf.tidy(() => {
        const r = chainGradients({ ...chain, ...(c.kl ? { kl: c.kl } : {}) }, c.keep, xT, loss, vars, true);
        return [r.value, ...(r.kl ? [r.kl] : []), ...r.grads];
      });
      const ours = run();
      const theirs = withTfjsOps(run);
      const scalars = c.kl ? 2 : 1;
      assertClose(`${what}: value${c.kl ? " and kl" : ""}`, ours.slice(0, scalars), theirs.slice(0, scalars), t);
      assertGradsClose(`${what}: LoRA gradients`, ours.slice(scalars), theirs.slice(scalars), t);
      if (c.kl) assert.ok(ours[1]!.dataSync()[0]! > 0, "the adapters move the prediction off the base one");
      tf.dispose([...ours, ...theirs]);
    }
  } finally {
    tf.dispose([xT, ...chain.noise]);
  }
});
