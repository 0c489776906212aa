/**
 * Every TF.js kernel the ONNX trace translates (src/tf/ort/trace-ops.ts, the heavy ORT kernels included), traced
 * over small seeded inputs and run as one ONNX Runtime graph, gives what TF.js itself computes on wasm-ort: within
 * 1e-5 relative for float outputs, exactly for int32 and bool ones. A coverage check fails when a kernel joins the
 * table without a case here. A traced gradient graph (tracedCall) follows its inputs.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/tf/backend.js";
import { TRACED_KERNELS } from "../../src/tf/ort/trace-ops.js";
import { tracedCall, tracedGraphsEnabled } from "../../src/tf/ort/traced-call.js";
import { traceGraph } from "../../src/tf/ort/trace.js";
import { compileTraced, runCompiled } from "../../src/tf/ort/traced-run.js";
import { dispatched, randomValues, relativeErrors } from "./compare.js";

const TOLERANCE = 1e-5;

before(async () => {
  await initBackend("wasm-ort");
});

/** An input: float32 values in [-1, 1) of a shape, or explicit values (int32 indices, bool masks). */
type Input = readonly number[] | { values: number[]; shape: number[]; dtype: "int32" | "bool" };
type Ops = (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

interface Case {
  name: string;
  /** Kernels the case must make TF.js dispatch while it is traced. */
  kernels: string[];
  inputs: Input[];
  f: Ops;
  /** Inputs the result does not depend on, whose reading the graph drops (only their shape matters); none if absent. */
  unread?: number[];
}

const pos = (x: tf.Tensor) => tf.add(tf.abs(x), 0.25);
/** Values on a 0.5 grid, so comparisons see ties. */
const coarse = (x: tf.Tensor) => tf.floor(tf.mul(x, 2));
const ints = (values: number[], shape = [values.length]): Input => ({ values, shape, dtype: "int32" });
const conv = (x: tf.Tensor, w: tf.Tensor, stride: number) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, "same");
const upsample = (x: tf.Tensor, size: [number, number]) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, size);

const CASES: Case[] = [
  { name: "Add broadcasting a vector over the last axis", kernels: ["Add"], inputs: [[2, 3, 4], [4]], f: (a, b) => tf.add(a!, b!) },
  { name: "Sub broadcasting [2,1,4] against [3,1]", kernels: ["Sub"], inputs: [[2, 1, 4], [3, 1]], f: (a, b) => tf.sub(a!, b!) },
  { name: "Multiply by a scalar tensor", kernels: ["Multiply"], inputs: [[3, 4], []], f: (a, b) => tf.mul(a!, b!) },
  { name: "RealDiv", kernels: ["RealDiv", "Abs"], inputs: [[3, 4], [3, 4]], f: (a, b) => tf.div(a!, pos(b!)) },
  { name: "Maximum and Minimum", kernels: ["Maximum", "Minimum"], inputs: [[2, 5], [5]], f: (a, b) => [tf.maximum(a!, b!), tf.minimum(a!, b!)] },
  { name: "Pow of a positive base", kernels: ["Pow"], inputs: [[3, 4], [3, 4]], f: (a, b) => tf.pow(pos(a!), tf.mul(b!, 3)) },
  {
    name: "comparisons with ties",
    kernels: ["Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "Floor"],
    inputs: [[4, 6], [6]],
    f: (a, b) => {
      const [x, y] = [coarse(a!), coarse(b!)];
      return [tf.greater(x, y), tf.greaterEqual(x, y), tf.less(x, y), tf.lessEqual(x, y), tf.equal(x, y)];
    },
  },
  { name: "LogicalAnd", kernels: ["LogicalAnd"], inputs: [[4, 5], [4, 5]], f: (a, b) => tf.logicalAnd(tf.greater(a!, 0), tf.less(b!, 0.3)) },
  { name: "SquaredDifference", kernels: ["SquaredDifference"], inputs: [[2, 3, 4], [3, 1]], f: (a, b) => tf.squaredDifference(a!, b!) },
  {
    name: "unary maths",
    kernels: ["Neg", "Exp", "Log", "Sqrt", "Rsqrt", "Reciprocal", "Square", "Sigmoid", "Tanh", "Erf", "Sin", "Cos", "Relu", "Sign"],
    inputs: [[3, 7]],
    f: (x) => {
      const p = pos(x!);
      return [tf.neg(x!), tf.exp(x!), tf.log(p), tf.sqrt(p), tf.rsqrt(p), tf.reciprocal(p), tf.square(x!)].concat(
        [tf.sigmoid(x!), tf.tanh(x!), tf.erf(x!), tf.sin(x!), tf.cos(x!), tf.relu(x!), tf.sign(coarse(x!))],
      );
    },
  },
  { name: "Identity (clone)", kernels: ["Identity"], inputs: [[2, 3]], f: (x) => tf.mul(tf.clone(x!), 2) },
  { name: "Step with alpha 0.3", kernels: ["Step"], inputs: [[4, 5]], f: (x) => tf.step(coarse(x!), 0.3) },
  { name: "ClipByValue", kernels: ["ClipByValue"], inputs: [[4, 5]], f: (x) => tf.clipByValue(x!, -0.4, 0.6) },
  { name: "Softmax over the last axis", kernels: ["Softmax"], inputs: [[2, 3, 5]], f: (x) => tf.softmax(tf.mul(x!, 4)) },
  {
    name: "Sum over [0, 2] with keepDims, over -1, and over everything",
    kernels: ["Sum"],
    inputs: [[2, 3, 4]],
    f: (x) => [tf.sum(x!, [0, 2], true), tf.sum(x!, -1), tf.sum(x!)],
  },
  { name: "Sum over no axis is the input", kernels: ["Sum"], inputs: [[2, 3]], f: (x) => tf.sum(x!, []) },
  { name: "Mean over axis 1 with keepDims, and over -2", kernels: ["Mean"], inputs: [[2, 3, 4]], f: (x) => [tf.mean(x!, 1, true), tf.mean(x!, -2)] },
  { name: "Max over -1 and everything", kernels: ["Max"], inputs: [[3, 4]], f: (x) => [tf.max(x!, -1), tf.max(x!, undefined, true)] },
  { name: "Min over axis 0", kernels: ["Min"], inputs: [[3, 4]], f: (x) => tf.min(x!, 0) },
  { name: "Prod over axis 1 with keepDims", kernels: ["Prod"], inputs: [[3, 4]], f: (x) => tf.prod(tf.add(x!, 1), 1, true) },
  { name: "AddN", kernels: ["AddN"], inputs: [[2, 3], [2, 3], [2, 3]], f: (a, b, c) => tf.addN([a!, b!, c!]) },
  {
    name: "Concat on a negative axis, an empty input left out",
    kernels: ["Concat"],
    inputs: [[2, 3, 1], [2, 3, 2], [2, 3, 4]],
    f: (a, b, c) => tf.concat([a!, tf.slice(c!, [0, 0, 0], [2, 3, 0]), b!, c!], -1),
  },
  { name: "Pack on axis 1 and -1", kernels: ["Pack"], inputs: [[2, 3], [2, 3]], f: (a, b) => [tf.stack([a!, b!], 1), tf.stack([a!, b!], -1)] },
  { name: "Unpack on axis -2", kernels: ["Unpack"], inputs: [[2, 3, 4]], f: (x) => tf.unstack(x!, -2) },
  { name: "SplitV on a negative axis", kernels: ["SplitV"], inputs: [[2, 3, 6]], f: (x) => tf.split(x!, [1, 3, 2], -1) },
  { name: "Slice with a size of -1", kernels: ["Slice"], inputs: [[3, 4, 5]], f: (x) => tf.slice(x!, [1, 0, 2], [-1, 3, 2]) },
  { name: "Transpose", kernels: ["Transpose"], inputs: [[2, 3, 4]], f: (x) => tf.transpose(x!, [2, 0, 1]) },
  {
    name: "Reshape: views of an input's data, and back",
    kernels: ["Reshape"],
    inputs: [[2, 3, 4]],
    f: (x) => tf.add(tf.reshape(tf.exp(tf.reshape(x!, [6, 4])), [2, 3, 4]), x!),
  },
  { name: "Tile", kernels: ["Tile"], inputs: [[2, 3]], f: (x) => tf.tile(x!, [2, 1]) },
  {
    name: "ZerosLike and OnesLike of float32, int32 and bool tensors",
    kernels: ["ZerosLike", "OnesLike"],
    inputs: [[2, 3], ints([2, -1, 3])],
    f: (x, i) => {
      const mask = tf.greater(x!, 0);
      return [tf.add(x!, tf.onesLike(x!)), tf.sub(tf.zerosLike(x!), x!), tf.add(tf.zerosLike(i!), i!), tf.logicalAnd(tf.onesLike(mask), mask)];
    },
  },
  {
    name: "Cast float32 → int32 (towards zero) and → bool, int32 → float32 and → bool, bool → float32",
    kernels: ["Cast"],
    inputs: [[3, 4], ints([3, 0, -7])],
    f: (x, i) => {
      const y = coarse(x!);
      return [tf.cast(tf.mul(x!, 5), "int32"), tf.cast(y, "bool"), tf.cast(i!, "float32"), tf.cast(i!, "bool"), tf.cast(tf.greater(x!, 0), "float32")];
    },
  },
  {
    name: "PadV2 with a constant, of float32 and int32 tensors",
    kernels: ["PadV2"],
    inputs: [[2, 3, 4], ints([1, 2, 3])],
    f: (x, i) => [tf.pad(x!, [[0, 1], [2, 0], [1, 1]], 0.5), tf.pad(i!, [[2, 1]], 7)],
  },
  {
    name: "Select with a broadcast condition, of float32 and int32 tensors",
    kernels: ["Select"],
    inputs: [[2, 3], [2, 3], [3], ints([1, 2, 3]), ints([4, 5, 6])],
    f: (a, b, c, i, j) => [tf.where(tf.greater(c!, 0), a!, b!), tf.where(tf.greater(c!, 0), i!, j!)],
  },
  {
    name: "GatherV2 with int32 indices on axis 1 and -1",
    kernels: ["GatherV2"],
    inputs: [[3, 5, 2], ints([4, 0, 0, 2]), ints([1, 0, 1], [3, 1])],
    f: (x, i, j) => [tf.gather(x!, i!, 1), tf.gather(x!, j!, -1)],
  },
  {
    name: "UnsortedSegmentSum (Gather's gradient) with repeated and absent rows",
    kernels: ["UnsortedSegmentSum"],
    inputs: [[5, 3], ints([4, 0, 0, 2, 4, 4]), [6, 3]],
    f: (x, i, dy) => tf.grad((y: tf.Tensor) => tf.gather(y, i!))(x!, dy!),
    unread: [0],
  },
  {
    name: "ArgMax on -1 and 0, ties to the first",
    kernels: ["ArgMax"],
    inputs: [[4, 6]],
    f: (x) => [tf.argMax(x!, -1), tf.argMax(x!, 0), tf.argMax(coarse(x!), -1)],
  },
  {
    name: "ResizeNearestNeighbor by 2, by 5/3 and 7/3, and down to 2/3",
    kernels: ["ResizeNearestNeighbor"],
    inputs: [[2, 3, 3, 2], [1, 6, 6, 1]],
    f: (x, y) => [upsample(x!, [6, 6]), upsample(x!, [5, 7]), upsample(y!, [4, 4])],
  },
  {
    name: "ResizeNearestNeighborGrad of an upsample by 2",
    kernels: ["ResizeNearestNeighborGrad"],
    inputs: [[2, 3, 4, 2], [2, 6, 8, 2]],
    f: (x, dy) => tf.grad((y: tf.Tensor) => upsample(y, [6, 8]))(x!, dy!),
    unread: [0],
  },
  {
    name: "BatchMatMul with broadcast batches and transposeB",
    kernels: ["BatchMatMul"],
    inputs: [[2, 3, 4], [1, 5, 4]],
    f: (a, b) => tf.matMul(a!, b!, false, true),
  },
  {
    name: "_FusedMatMul with bias and relu",
    kernels: ["_FusedMatMul"],
    inputs: [[3, 4], [4, 5], [5]],
    f: (a, b, bias) => tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias, activation: "relu" }),
  },
  {
    name: "Conv2D and its two gradient kernels (stride 2, same)",
    kernels: ["Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter"],
    inputs: [[2, 6, 6, 3], [3, 3, 3, 4], [2, 3, 3, 4]],
    f: (x, w, dy) => [conv(x!, w!, 2), ...tf.grads((a: tf.Tensor, b: tf.Tensor) => conv(a, b, 2))([x!, w!], dy!)],
  },
  {
    name: "FusedConv2D with bias and sigmoid",
    kernels: ["FusedConv2D"],
    inputs: [[2, 5, 5, 3], [3, 3, 3, 4], [4]],
    f: (x, w, bias) => tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 1, pad: "same", bias, activation: "sigmoid" }),
  },
];

const isShape = (input: Input): input is readonly number[] => Array.isArray(input);
const tensorOf = (input: Input, i: number): tf.Tensor =>
  isShape(input) ? tf.tensor(randomValues(input, 11 + 17 * i), [...input]) : tf.tensor(input.values, input.shape, input.dtype);
const asList = (out: tf.Tensor | tf.Tensor[]) => (Array.isArray(out) ? out : [out]);

for (const [n, c] of CASES.entries()) {
  test(`traced ${c.name} matches TF.js`, () => {
    const before = tf.memory().numTensors;
    const inputs = c.inputs.map(tensorOf);
    try {
      const expected = tf.tidy(() => asList(c.f(...inputs)));
      const { result: compiled, kernels } = dispatched(() => compileTraced(`trace-ops ${n}`, inputs, () => asList(c.f(...inputs))));
      for (const k of c.kernels) assert.ok(kernels.has(k), `${k} was not dispatched (saw ${[...kernels].join(", ")})`);
      const read = inputs.flatMap((_, i) => (c.unread?.includes(i) ? [] : [i]));
      assert.deepEqual(compiled.used, read, "the graph reads every input it depends on (nothing was folded away)");
      const actual = runCompiled(compiled, inputs);
      assert.equal(actual.length, expected.length);
      for (const [i, e] of expected.entries()) {
        const a = actual[i]!;
        assert.deepEqual([a.dtype, a.shape], [e.dtype, e.shape], `output ${i}: dtype and shape`);
        if (e.dtype === "float32") {
          const [err] = relativeErrors([a.dataSync() as Float32Array], [e.dataSync() as Float32Array]);
          assert.ok(err! <= TOLERANCE, `output ${i}: relative error ${err!.toExponential(2)} > ${TOLERANCE}`);
        } else {
          // TF.js's wasm Cast to bool keeps the low byte of the integer part (-2 → 254, and 0.3 → 0 where cpu says
          // true): the cases cast small integers only, and bools compare as truth values.
          const values = (t: tf.Tensor) => [...t.dataSync()].map((v) => (e.dtype === "bool" ? v !== 0 : v));
          assert.deepEqual(values(a), values(e), `output ${i} (${e.dtype})`);
        }
      }
      tf.dispose([...actual, ...expected]);
    } finally {
      tf.dispose(inputs);
    }
    assert.equal(tf.memory().numTensors, before, "tracing and running leave no tensor behind");
  });
}

test("a traced gradient graph computes the gradient at its inputs, not at those it was traced with", (t) => {
  // The tape saves each kernel's inputs and outputs as copies made inside the kernel's dispatch; the gradient reads
  // those copies, so they must be values of the graph, not constants of the trace.
  const w = tf.variable(tf.tensor2d(randomValues([3, 2], 5), [3, 2]), true);
  const x = tf.tensor2d(randomValues([2, 3], 6), [2, 3]);
  const model = (s: tf.Tensor, scale: tf.Tensor) => tf.tanh(tf.mul(tf.matMul(s, w), scale));
  const grads = (forward: typeof model, scaleValue: number) =>
    tf.tidy(() => {
      const scale = tf.tensor1d([scaleValue, -scaleValue]);
      return tf.engine().gradients(() => tf.sum(tf.square(forward(x, scale))), [x, w]).grads;
    });
  const traced = (s: tf.Tensor, scale: tf.Tensor) => tracedCall(`gradient at ${t.name}`, [s, scale, w], [0], () => model(s, scale));
  tf.dispose(grads(traced, 0.3));
  for (const scale of [0.1, 0.3, 2]) {
    const [ours, theirs] = [grads(traced, scale), grads(model, scale)];
    const errors = relativeErrors(ours.map((g) => g.dataSync() as Float32Array), theirs.map((g) => g.dataSync() as Float32Array));
    assert.ok(Math.max(...errors) <= TOLERANCE, `scale ${scale}: relative errors ${errors.map((e) => e.toExponential(2))}`);
    tf.dispose([...ours, ...theirs]);
  }
  tf.dispose([w, x]);
});

test("a reduction's gradient (dy · ones) is traced as dy broadcast, with no ones baked in, and the same values", () => {
  const x = tf.tensor3d(randomValues([2, 30, 40], 7), [2, 30, 40]);
  const w = tf.tensor3d(randomValues([2, 30, 40], 8), [2, 30, 40]);
  // Each reduction's dy depends on x (a constant dy would fold the product away).
  const f = () =>
    [
      (y: tf.Tensor) => tf.sum(tf.square(tf.sum(y, 1))),
      (y: tf.Tensor) => tf.sum(tf.square(tf.mean(y, -1))),
      (y: tf.Tensor) => tf.sum(tf.square(tf.mul(tf.sum(y, -1, true), w))),
    ].map((g) => tf.grad(g)(x));
  const { graph } = traceGraph([x], f);
  const ones = (graph.initializers ?? []).filter((i) => i.values.length > 16 && Array.from(i.values).every((v) => v === 1));
  assert.deepEqual(ones.map((i) => i.dims), [], "no tensor of ones is baked in");
  assert.ok(graph.nodes.some((n) => n.op === "Expand"), "dy is broadcast");
  const expected = tf.tidy(f);
  const compiled = compileTraced("ones gradient", [x], f);
  const actual = runCompiled(compiled, [x]);
  const errors = relativeErrors(actual.map((t) => t.dataSync() as Float32Array), expected.map((t) => t.dataSync() as Float32Array));
  assert.ok(Math.max(...errors) <= TOLERANCE, `relative errors ${errors.map((e) => e.toExponential(2))}`);
  tf.dispose([x, w, ...expected, ...actual]);
});

test("every kernel the trace translates has a case here", () => {
  const covered = new Set(CASES.flatMap((c) => c.kernels));
  assert.deepEqual(TRACED_KERNELS.filter((k) => !covered.has(k)), []);
});

test("ALIGNPROP_ORT_GRAPHS takes 0, 1 or nothing, and a bad value is an error naming it and the value", () => {
  assert.equal(tracedGraphsEnabled({}), true);
  assert.equal(tracedGraphsEnabled({ ALIGNPROP_ORT_GRAPHS: "" }), true);
  assert.equal(tracedGraphsEnabled({ ALIGNPROP_ORT_GRAPHS: "1" }), true);
  assert.equal(tracedGraphsEnabled({ ALIGNPROP_ORT_GRAPHS: "0" }), false);
  for (const bad of ["yes", "off", "2", " 0"]) {
    assert.throws(() => tracedGraphsEnabled({ ALIGNPROP_ORT_GRAPHS: bad }), (err: Error) => {
      assert.match(err.message, /ALIGNPROP_ORT_GRAPHS/);
      assert.ok(err.message.includes(JSON.stringify(bad)), `names the value: ${err.message}`);
      return true;
    });
  }
});
