/** Models built in code: every attribute kind and initializer type the kernels use is read back by ORT correctly. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { OrtSession, ortTensor } from "../../src/tf/ort/binding.js";
import { encodeModel, type OnnxGraph } from "../../src/tf/ort/onnx-model.js";

const OPTIONS = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: "all",
  executionMode: "sequential",
  enableCpuMemArena: true,
  enableMemPattern: true,
} as const;

function run(graph: OnnxGraph, inputs: Float32Array[]): Float32Array {
  const session = new OrtSession(encodeModel(graph), OPTIONS);
  const y = new Float32Array(graph.outputs[0]!.shape.reduce((a, b) => a * b, 1));
  const feeds = Object.fromEntries(inputs.map((x, i) => [`x${i}`, ortTensor(x, graph.inputs[i]!.shape)]));
  session.run(feeds, { y: ortTensor(y, graph.outputs[0]!.shape) });
  session.dispose();
  return y;
}

test("ints attributes and int64 initializers: Transpose then Slice with steps", () => {
  const x = Float32Array.from({ length: 12 }, (_, i) => i); // [3, 4]
  const y = run(
    {
      inputs: [{ name: "x0", shape: [3, 4] }],
      outputs: [{ name: "y", shape: [2, 3] }],
      nodes: [
        { op: "Transpose", inputs: ["x0"], outputs: ["t"], attributes: { perm: { ints: [1, 0] } } }, // [4, 3]
        { op: "Slice", inputs: ["t", "starts", "ends", "axes", "steps"], outputs: ["y"] },
      ],
      initializers: [
        { name: "starts", dims: [1], dataType: "int64", values: [0] },
        { name: "ends", dims: [1], dataType: "int64", values: [4] },
        { name: "axes", dims: [1], dataType: "int64", values: [0] },
        { name: "steps", dims: [1], dataType: "int64", values: [2] },
      ],
    },
    [x],
  );
  assert.deepEqual(Array.from(y), [0, 4, 8, 2, 6, 10]);
});

test("int and float attributes and float initializers: Gemm transA, LeakyRelu alpha, Clip bounds", () => {
  const y = run(
    {
      inputs: [{ name: "x0", shape: [2, 1] }, { name: "x1", shape: [2, 2] }],
      outputs: [{ name: "y", shape: [1, 2] }],
      nodes: [
        { op: "Gemm", inputs: ["x0", "x1"], outputs: ["g"], attributes: { transA: { int: 1 } } },
        { op: "LeakyRelu", inputs: ["g"], outputs: ["l"], attributes: { alpha: { float: 0.5 } } },
        { op: "Clip", inputs: ["l", "lo", "hi"], outputs: ["y"] },
      ],
      initializers: [
        { name: "lo", dims: [], dataType: "float32", values: [-1] },
        { name: "hi", dims: [], dataType: "float32", values: [6] },
      ],
    },
    [new Float32Array([1, -2]), new Float32Array([3, 1, 4, -5])],
  );
  // [1, -2] · [[3, 1], [4, -5]] = [-5, 11] → leaky [-2.5, 11] → clip [-1, 6]
  assert.deepEqual(Array.from(y), [-1, 6]);
});

test("string attributes: Pad in reflect mode", () => {
  const y = run(
    {
      inputs: [{ name: "x0", shape: [3] }],
      outputs: [{ name: "y", shape: [5] }],
      nodes: [{ op: "Pad", inputs: ["x0", "pads"], outputs: ["y"], attributes: { mode: { string: "reflect" } } }],
      initializers: [{ name: "pads", dims: [2], dataType: "int64", values: [1, 1] }],
    },
    [new Float32Array([1, 2, 3])],
  );
  assert.deepEqual(Array.from(y), [2, 1, 2, 3, 2]);
});
