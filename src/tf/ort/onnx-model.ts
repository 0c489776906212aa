/**
 * Builds small ONNX models in code: a ModelProto holding one graph of a few nodes over float32 tensors with fixed
 * shapes, encoded with @bufbuild/protobuf's wire writer. Field numbers are those of onnx/onnx.proto (proto2).
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";

export type OnnxAttribute =
  | { int: number }
  | { ints: readonly number[] }
  | { float: number }
  | { string: string };

export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, OnnxAttribute>;
  /** Operator set domain; "" (default) is the standard ai.onnx set. */
  domain?: string;
}

/** Element types the graphs carry (TF.js's dtypes, and ONNX's int64 for shape operands). */
export type OnnxDataType = "float32" | "int32" | "int64" | "bool";

/** A graph input or output with a fixed shape; float32 unless `dtype` says otherwise. */
export interface OnnxValue {
  name: string;
  shape: readonly number[];
  dtype?: OnnxDataType;
}

/** A constant baked into the model (shape operands of Pad, Slice, Reshape; Clip bounds). */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  dataType: OnnxDataType;
  values: ArrayLike<number>;
}

export interface OnnxGraph {
  inputs: readonly OnnxValue[];
  outputs: readonly OnnxValue[];
  nodes: readonly OnnxNode[];
  initializers?: readonly OnnxInitializer[];
}

/** The ONNX opset the kernels are written against (Pad, Slice and Clip take their operands as inputs here). */
export const OPSET = 17;
const IR_VERSION = 8; // the IR version that goes with opset 17

const DATA_TYPE = { float32: 1, int32: 6, int64: 7, bool: 9 } as const; // TensorProto.DataType

/** ONNX's TensorProto.DataType code for an element type (Cast's `to`). */
export const elementType = (dtype: OnnxDataType): number => DATA_TYPE[dtype];

/** The ONNX element type of a TF.js dtype; the graphs carry float32, int32 and bool tensors. */
export function onnxDataType(dtype: string): OnnxDataType {
  if (dtype === "float32" || dtype === "int32" || dtype === "bool") return dtype;
  throw new Error(`ONNX graphs here carry float32, int32 and bool tensors, not ${dtype}`);
}
const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const; // AttributeProto.AttributeType

export function encodeModel(graph: OnnxGraph): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, WireType.Varint).int64(IR_VERSION); // ir_version
  w.tag(2, WireType.LengthDelimited).string("alignprop"); // producer_name
  w.tag(7, WireType.LengthDelimited).fork(); // graph
  writeGraph(w, graph);
  w.join();
  w.tag(8, WireType.LengthDelimited).fork(); // opset_import
  w.tag(1, WireType.LengthDelimited).string(""); // domain
  w.tag(2, WireType.Varint).int64(OPSET); // version
  w.join();
  for (const domain of new Set(graph.nodes.flatMap((n) => (n.domain ? [n.domain] : [])))) {
    w.tag(8, WireType.LengthDelimited).fork(); // opset_import of a contrib domain (ORT's are all at version 1)
    w.tag(1, WireType.LengthDelimited).string(domain);
    w.tag(2, WireType.Varint).int64(1);
    w.join();
  }
  return w.finish();
}

function writeGraph(w: BinaryWriter, graph: OnnxGraph): void {
  for (const node of graph.nodes) {
    w.tag(1, WireType.LengthDelimited).fork(); // node
    writeNode(w, node);
    w.join();
  }
  w.tag(2, WireType.LengthDelimited).string("g"); // name
  for (const init of graph.initializers ?? []) {
    w.tag(5, WireType.LengthDelimited).fork(); // initializer
    writeInitializer(w, init);
    w.join();
  }
  for (const [field, values] of [[11, graph.inputs], [12, graph.outputs]] as const) {
    for (const value of values) {
      w.tag(field, WireType.LengthDelimited).fork(); // input / output (ValueInfoProto)
      writeValueInfo(w, value);
      w.join();
    }
  }
}

function writeNode(w: BinaryWriter, node: OnnxNode): void {
  for (const name of node.inputs) w.tag(1, WireType.LengthDelimited).string(name);
  for (const name of node.outputs) w.tag(2, WireType.LengthDelimited).string(name);
  w.tag(4, WireType.LengthDelimited).string(node.op); // op_type
  for (const [name, attr] of Object.entries(node.attributes ?? {})) {
    w.tag(5, WireType.LengthDelimited).fork(); // attribute
    writeAttribute(w, name, attr);
    w.join();
  }
  if (node.domain) w.tag(7, WireType.LengthDelimited).string(node.domain);
}

function writeAttribute(w: BinaryWriter, name: string, attr: OnnxAttribute): void {
  w.tag(1, WireType.LengthDelimited).string(name);
  if ("int" in attr) {
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_TYPE.int);
    w.tag(3, WireType.Varint).int64(attr.int);
  } else if ("ints" in attr) {
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_TYPE.ints);
    for (const v of attr.ints) w.tag(8, WireType.Varint).int64(v);
  } else if ("float" in attr) {
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_TYPE.float);
    w.tag(2, WireType.Bit32).float(attr.float);
  } else {
    w.tag(20, WireType.Varint).int32(ATTRIBUTE_TYPE.string);
    w.tag(4, WireType.LengthDelimited).string(attr.string);
  }
}

function writeInitializer(w: BinaryWriter, init: OnnxInitializer): void {
  for (const d of init.dims) w.tag(1, WireType.Varint).int64(d); // dims
  w.tag(2, WireType.Varint).int32(DATA_TYPE[init.dataType]); // data_type
  w.tag(8, WireType.LengthDelimited).string(init.name); // name
  const n = init.values.length;
  if (init.dataType === "float32") {
    const raw = new Uint8Array(Float32Array.from(init.values).buffer); // raw_data: little-endian, as ONNX stores it
    w.tag(9, WireType.LengthDelimited).bytes(raw);
    return;
  }
  if (init.dataType === "int64") {
    w.tag(7, WireType.LengthDelimited).fork(); // int64_data, packed
    for (let i = 0; i < n; i++) w.int64(init.values[i]!);
  } else {
    w.tag(5, WireType.LengthDelimited).fork(); // int32_data (also holds bool), packed
    for (let i = 0; i < n; i++) w.int32(init.values[i]!);
  }
  w.join();
}

function writeValueInfo(w: BinaryWriter, value: OnnxValue): void {
  w.tag(1, WireType.LengthDelimited).string(value.name);
  w.tag(2, WireType.LengthDelimited).fork(); // type: TypeProto
  w.tag(1, WireType.LengthDelimited).fork(); // tensor_type: TypeProto.Tensor
  w.tag(1, WireType.Varint).int32(DATA_TYPE[value.dtype ?? "float32"]); // elem_type
  w.tag(2, WireType.LengthDelimited).fork(); // shape: TensorShapeProto
  for (const d of value.shape) {
    w.tag(1, WireType.LengthDelimited).fork(); // dim
    w.tag(1, WireType.Varint).int64(d); // dim_value
    w.join();
  }
  w.join();
  w.join();
  w.join();
}
