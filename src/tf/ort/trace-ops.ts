/**
 * TF.js kernels as ONNX nodes, for traced graphs (trace.ts). Each entry takes the kernel's named inputs and
 * attributes as TF.js dispatched them and writes nodes producing the recorded outputs with the same values, dtype
 * and layout (TF.js's NHWC stays NHWC; the convolutions transpose around ONNX's NCHW ops, and ORT's transpose
 * optimizer removes the back-to-back pairs). The heavy kernels reuse the per-kernel graphs ORT already runs
 * (register.ts), so each kernel has one ONNX form. A kernel missing here fails the trace, naming it.
 */
import * as tf from "@tensorflow/tfjs";
import { elementType, onnxDataType } from "./onnx-model.js";
import { ORT_KERNEL_GRAPHS } from "./register.js";
import type { TraceEmitter } from "./trace.js";

type Inputs = tf.NamedTensorInfoMap;
type Attrs = tf.NamedAttrMap;

interface Call {
  e: TraceEmitter;
  inputs: Inputs;
  attrs: Attrs;
  outputs: tf.TensorInfo[];
  names: string[];
  /** The ONNX name of the input called `key`. */
  in: (key: string) => string;
  /** The input called `key`. */
  info: (key: string) => tf.TensorInfo;
}

type Translate = (c: Call) => void;

const unary = (op: string): Translate => (c) => c.e.node(op, [c.in("x")], c.names);
/**
 * A broadcasting binary op. ORT's broadcaster walks an output whose last axes are 1 ([4, 1024, 32, 1]: GroupNorm with
 * one channel per group) one element at a time, 15–20× slower than the same data without them, so those axes are
 * reshaped away around the op (every input is 1 or absent there, the output being 1) and restored after it.
 */
const binary = (op: string): Translate => (c) => {
  const [a, b] = [c.info("a").shape, c.info("b").shape];
  const out = c.outputs[0]!.shape;
  let ones = 0;
  while (ones < out.length - 1 && out[out.length - 1 - ones] === 1) ones++;
  if (ones === 0 || tf.util.arraysEqual(a, b)) return c.e.node(op, [c.in("a"), c.in("b")], c.names);
  const dropOnes = (key: string, shape: readonly number[]) => {
    const kept = shape.slice(0, Math.max(0, shape.length - ones));
    const name = c.e.fresh(`${key}_squeezed`);
    c.e.node("Reshape", [c.in(key), int64(c.e, kept.length ? kept : [1])], [name]);
    return name;
  };
  const y = c.e.fresh(op);
  c.e.node(op, [dropOnes("a", a), dropOnes("b", b)], [y]);
  c.e.node("Reshape", [y, int64(c.e, out)], c.names);
};

/**
 * Axes as non-negative integers of a rank-`rank` tensor. For reductions null/undefined mean every axis, while []
 * means none (TF.js's parseAxisParam: `tf.sum(x, [])` is x).
 */
function axesOf(axis: unknown, rank: number, nullIsAll = true): number[] {
  if (axis == null) return nullIsAll ? [...Array(rank).keys()] : [];
  const list = Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return list.map((a) => (a < 0 ? a + rank : a));
}

/** A single-axis attribute as a non-negative axis of a rank-`rank` tensor. */
const axisOf = (axis: unknown, rank: number): number => axesOf(axis, rank, false)[0]!;

const int64 = (e: TraceEmitter, values: readonly number[]) => e.constant("int64", [values.length], values);
const scalarF32 = (e: TraceEmitter, v: number) => e.constant("float32", [], [v]);

/** A reduction; ONNX's ReduceSum takes its axes as an input, the others (opset 17) as an attribute. */
const reduce = (op: string, axisAttr: string): Translate => (c) => {
  const x = c.info("x");
  const axes = axesOf(c.attrs[axisAttr], x.shape.length);
  const keepdims = { int: c.attrs.keepDims ? 1 : 0 };
  if (axes.length === 0) return c.e.node("Identity", [c.in("x")], c.names);
  if (op === "ReduceSum") c.e.node(op, [c.in("x"), int64(c.e, axes)], c.names, { keepdims });
  else c.e.node(op, [c.in("x")], c.names, { axes: { ints: axes }, keepdims });
};

/** The keys of inputs given as an array (Concat, AddN, Pack), in order. */
const listedKeys = (c: Call): string[] => Object.keys(c.inputs).sort((a, b) => Number(a) - Number(b));
const listed = (c: Call): string[] => listedKeys(c).map((k) => c.in(k));

const TRANSLATIONS: Record<string, Translate> = {
  Add: binary("Add"),
  Sub: binary("Sub"),
  Multiply: (c) => {
    const ones = (["a", "b"] as const).find((key) => isOnesOfShape(c, c.info(key), c.outputs[0]!.shape));
    if (!ones) return binary("Mul")(c);
    // x · ones(shape) is x broadcast to the shape, exactly: TF.js's gradient of every Sum and Mean broadcasts dy this
    // way, and the ones would be baked in as constants (9.3 M floats in the tiny UNet's training step).
    const other = ones === "a" ? "b" : "a";
    const out = c.outputs[0]!.shape;
    if (tf.util.arraysEqual(c.info(other).shape, out)) c.e.node("Identity", [c.in(other)], c.names);
    else c.e.node("Expand", [c.in(other), int64(c.e, out)], c.names);
  },
  RealDiv: binary("Div"),
  Maximum: binary("Max"),
  Minimum: binary("Min"),
  Pow: binary("Pow"),
  Greater: binary("Greater"),
  GreaterEqual: binary("GreaterOrEqual"),
  Less: binary("Less"),
  LessEqual: binary("LessOrEqual"),
  Equal: binary("Equal"),
  LogicalAnd: binary("And"),
  SquaredDifference: (c) => {
    const d = c.e.fresh("diff");
    c.e.node("Sub", [c.in("a"), c.in("b")], [d]);
    c.e.node("Mul", [d, d], c.names);
  },
  Neg: unary("Neg"),
  Exp: unary("Exp"),
  Log: unary("Log"),
  Sqrt: unary("Sqrt"),
  Rsqrt: (c) => {
    const s = c.e.fresh("sqrt");
    c.e.node("Sqrt", [c.in("x")], [s]);
    c.e.node("Reciprocal", [s], c.names);
  },
  Reciprocal: unary("Reciprocal"),
  Square: (c) => c.e.node("Mul", [c.in("x"), c.in("x")], c.names),
  Sigmoid: unary("Sigmoid"),
  Tanh: unary("Tanh"),
  Erf: unary("Erf"),
  Sin: unary("Sin"),
  Cos: unary("Cos"),
  Abs: unary("Abs"),
  Relu: unary("Relu"),
  Floor: unary("Floor"),
  Sign: unary("Sign"),
  Identity: unary("Identity"),
  Step: (c) => {
    // 1 where x > 0, alpha elsewhere (NaN stays NaN in TF.js; ORT's Where gives alpha there).
    const positive = c.e.fresh("positive");
    c.e.node("Greater", [c.in("x"), scalarF32(c.e, 0)], [positive]);
    c.e.node("Where", [positive, scalarF32(c.e, 1), scalarF32(c.e, c.attrs.alpha as number)], c.names);
  },
  ClipByValue: (c) =>
    c.e.node("Clip", [c.in("x"), scalarF32(c.e, c.attrs.clipValueMin as number), scalarF32(c.e, c.attrs.clipValueMax as number)], c.names),
  Softmax: (c) => c.e.node("Softmax", [c.in("logits")], c.names, { axis: { int: axisOf(c.attrs.dim ?? -1, c.info("logits").shape.length) } }),
  Sum: reduce("ReduceSum", "axis"),
  Mean: reduce("ReduceMean", "axis"),
  Max: reduce("ReduceMax", "reductionIndices"),
  Min: reduce("ReduceMin", "axis"),
  Prod: reduce("ReduceProd", "axis"),
  AddN: (c) => c.e.node("Sum", listed(c), c.names),
  Concat: (c) => {
    const rank = c.outputs[0]!.shape.length;
    const keys = listedKeys(c);
    const kept = keys.filter((k) => c.inputs[k]!.shape.every((d) => d > 0) || keys.length === 1);
    c.e.node("Concat", kept.map((k) => c.in(k)), c.names, { axis: { int: axisOf(c.attrs.axis, rank) } });
  },
  Pack: (c) => {
    const axis = axisOf(c.attrs.axis, c.outputs[0]!.shape.length);
    const parts = listed(c).map((name) => {
      const u = c.e.fresh("unsqueezed");
      c.e.node("Unsqueeze", [name, int64(c.e, [axis])], [u]);
      return u;
    });
    c.e.node("Concat", parts, c.names, { axis: { int: axis } });
  },
  Unpack: (c) => {
    const value = c.info("value");
    const axis = axisOf(c.attrs.axis, value.shape.length);
    const parts = c.names.map(() => c.e.fresh("part"));
    c.e.node("Split", [c.in("value"), int64(c.e, c.names.map(() => 1))], parts, { axis: { int: axis } });
    parts.forEach((p, i) => c.e.node("Squeeze", [p, int64(c.e, [axis])], [c.names[i]!]));
  },
  SplitV: (c) => {
    const x = c.info("x");
    const axis = axisOf(c.attrs.axis, x.shape.length);
    c.e.node("Split", [c.in("x"), int64(c.e, c.outputs.map((o) => o.shape[axis]!))], c.names, { axis: { int: axis } });
  },
  Slice: (c) => {
    const x = c.info("x");
    const begin = (Array.isArray(c.attrs.begin) ? c.attrs.begin : [c.attrs.begin]) as number[];
    const out = c.outputs[0]!.shape;
    const starts = x.shape.map((_, i) => begin[i] ?? 0);
    const ends = starts.map((s, i) => s + out[i]!);
    c.e.node("Slice", [c.in("x"), int64(c.e, starts), int64(c.e, ends), int64(c.e, starts.map((_, i) => i))], c.names);
  },
  Transpose: (c) => c.e.node("Transpose", [c.in("x")], c.names, { perm: { ints: c.attrs.perm as number[] } }),
  Reshape: (c) => c.e.node("Reshape", [c.in("x"), int64(c.e, c.outputs[0]!.shape)], c.names),
  Tile: (c) => c.e.node("Tile", [c.in("x"), int64(c.e, c.attrs.reps as number[])], c.names),
  ZerosLike: (c) => fillLike(c, 0),
  OnesLike: (c) => fillLike(c, 1),
  Cast: (c) => c.e.node("Cast", [c.in("x")], c.names, { to: { int: elementType(onnxDataType(c.attrs.dtype as string)) } }),
  PadV2: (c) => {
    const paddings = c.attrs.paddings as [number, number][];
    const pads = [...paddings.map((p) => p[0]), ...paddings.map((p) => p[1])];
    const value = c.e.constant(c.info("x").dtype === "int32" ? "int32" : "float32", [], [c.attrs.constantValue as number]);
    c.e.node("Pad", [c.in("x"), int64(c.e, pads), value], c.names);
  },
  Select: (c) => c.e.node("Where", [c.in("condition"), c.in("t"), c.in("e")], c.names),
  GatherV2: (c) => {
    if (c.attrs.batchDims) throw new Error(`GatherV2 with batchDims=${String(c.attrs.batchDims)} is not traced`);
    const x = c.info("x");
    c.e.node("Gather", [c.in("x"), c.in("indices")], c.names, { axis: { int: axisOf(c.attrs.axis, x.shape.length) } });
  },
  UnsortedSegmentSum: (c) => {
    // Gather's gradient: row i of x added into row segmentIds[i] of zeros [numSegments, …].
    const ids = c.info("segmentIds");
    if (ids.shape.length !== 1) throw new Error(`UnsortedSegmentSum with segmentIds of shape [${ids.shape}] is not traced (1-D only)`);
    const [rows, indices] = [c.e.fresh("segment_rows"), c.e.fresh("segment_indices")];
    c.e.node("Cast", [c.in("segmentIds")], [rows], { to: { int: elementType("int64") } });
    c.e.node("Reshape", [rows, int64(c.e, [ids.shape[0]!, 1])], [indices]);
    const zeros = c.e.fresh("segment_zeros");
    c.e.node("Expand", [c.e.constant("float32", [], [0]), int64(c.e, c.outputs[0]!.shape)], [zeros]);
    c.e.node("ScatterND", [zeros, indices, c.in("x")], c.names, { reduction: { string: "add" } });
  },
  ArgMax: (c) => {
    const x = c.info("x");
    const i64 = c.e.fresh("argmax");
    c.e.node("ArgMax", [c.in("x")], [i64], { axis: { int: axisOf(c.attrs.axis, x.shape.length) }, keepdims: { int: 0 } });
    c.e.node("Cast", [i64], c.names, { to: { int: elementType("int32") } });
  },
  ResizeNearestNeighbor: (c) => {
    if (c.attrs.alignCorners || c.attrs.halfPixelCenters) {
      throw new Error("ResizeNearestNeighbor with alignCorners or halfPixelCenters is not traced");
    }
    // TF's legacy nearest: source = floor(dest · in/out), ONNX's asymmetric + floor.
    const sizes = int64(c.e, c.outputs[0]!.shape);
    c.e.node("Resize", [c.in("images"), "", "", sizes], c.names, {
      mode: { string: "nearest" },
      coordinate_transformation_mode: { string: "asymmetric" },
      nearest_mode: { string: "floor" },
    });
  },
  ResizeNearestNeighborGrad: (c) => {
    // The gradient of an integer-factor nearest upsample: each source pixel sums its f×f block of dy.
    const [b, h, w, ch] = c.outputs[0]!.shape as [number, number, number, number];
    const dy = c.info("dy");
    const [fh, fw] = [dy.shape[1]! / h, dy.shape[2]! / w];
    if (!Number.isInteger(fh) || !Number.isInteger(fw) || c.attrs.alignCorners || c.attrs.halfPixelCenters) {
      throw new Error(`ResizeNearestNeighborGrad from [${dy.shape}] to [${c.outputs[0]!.shape}] is not traced (integer factors only)`);
    }
    const blocks = c.e.fresh("blocks");
    c.e.node("Reshape", [c.in("dy"), int64(c.e, [b, h, fh, w, fw, ch])], [blocks]);
    c.e.node("ReduceSum", [blocks, int64(c.e, [2, 4])], c.names, { keepdims: { int: 0 } });
  },
};

/** True when `t` is a constant of the trace, of `shape`, every element 1. */
function isOnesOfShape(c: Call, t: tf.TensorInfo, shape: readonly number[]): boolean {
  if (!c.e.isConstant(t) || !tf.util.arraysEqual(t.shape, [...shape]) || c.outputs[0]!.dtype !== t.dtype) return false;
  const values = tf.engine().readSync(t.dataId) as ArrayLike<number>;
  for (let i = 0; i < values.length; i++) if (values[i] !== 1) return false;
  return true;
}

function fillLike(c: Call, value: number): void {
  const x = c.info("x");
  const dtype = x.dtype === "float32" || x.dtype === "bool" ? x.dtype : "int32";
  c.e.node("Expand", [c.e.constant(dtype, [], [value]), int64(c.e, x.shape)], c.names);
}

const HEAVY = new Map(ORT_KERNEL_GRAPHS.map((k) => [k.kernelName, k.toGraph]));

/** The TF.js kernels a trace can hold: the translated ones and the heavy ones ORT runs. */
export const TRACED_KERNELS: readonly string[] = [...Object.keys(TRANSLATIONS), ...HEAVY.keys()];

/** Writes the nodes of one recorded kernel call, producing `names` (one per output). */
export function translateKernel(
  e: TraceEmitter,
  kernelName: string,
  inputs: Inputs,
  attrs: Attrs,
  outputs: tf.TensorInfo[],
  names: string[],
): void {
  const heavy = HEAVY.get(kernelName);
  if (heavy) {
    const spec = heavy(inputs, attrs, (t) => e.isConstant(t));
    if (!spec) throw new Error(`${kernelName} with inputs of dtype ${Object.values(inputs).map((t) => t?.dtype).join(", ")} is not traced`);
    e.inline(spec.graph(), spec.feeds.map((t) => e.name(t)), names[0]!);
    return;
  }
  const translate = TRANSLATIONS[kernelName];
  if (!translate) throw new Error(`the ONNX trace has no translation for the TF.js kernel ${kernelName}`);
  const info = (key: string) => {
    const t = inputs[key];
    if (!t) throw new Error(`${kernelName}: no input ${key}`);
    return t;
  };
  translate({ e, inputs, attrs, outputs, names, info, in: (key) => e.name(info(key)) });
}
