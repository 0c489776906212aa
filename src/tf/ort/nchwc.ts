/**
 * Convolutions in ONNX Runtime's blocked NCHWc layout (MLAS's direct conv kernels) when the filter is not a constant.
 * ORT's own NCHWc transformer rewrites only Conv nodes whose filter is a constant initializer (it reorders the filter
 * once, at session creation), so a conv whose filter is a graph input (a trainable weight, a one-kernel session) ran
 * as im2col + GEMM. The same kernels take a filter that is reordered inside the graph: the NHWC input goes in through
 * `ReorderInput` (channels_last), the [KH, KW, Cin, Cout] filter is reshaped and transposed to MLAS's OIHWBiBo
 * blocks, and `ReorderOutput` (channels_last) brings the result back to NHWC — where the plain path transposes twice.
 * On 4×32×32×64 3×3 convs chained with SiLU: 6.5 ms against 10.1 for three (one thread), the same values to 1e-7.
 *
 * The block size is MLAS's (8 with AVX2, 16 with AVX-512), probed once from ORT itself: a filter reordered for another
 * block size gives wrong numbers without an error.
 */
import { elementType, encodeModel, type OnnxInitializer, type OnnxNode } from "./onnx-model.js";
import { int64 } from "./graph-parts.js";
import { OrtSession, ortTensor } from "./binding.js";
import { ortSessions } from "./ort-kernel.js";

export const NCHWC_DOMAIN = "com.microsoft.nchwc";

let blockSize: number | undefined;

/** MLAS's NCHWc block size on this CPU: the channels `ReorderInput` pads 4 channels to. */
export function nchwcBlockSize(): number {
  if (blockSize !== undefined) return blockSize;
  const session = new OrtSession(
    encodeModel({
      inputs: [{ name: "x", shape: [1, 4, 1, 1], dtype: "float32" }],
      outputs: [{ name: "y", shape: [4], dtype: "float32" }],
      nodes: [
        { op: "ReorderInput", domain: NCHWC_DOMAIN, inputs: ["x"], outputs: ["blocked"] },
        { op: "Shape", inputs: ["blocked"], outputs: ["shape"] },
        { op: "Cast", inputs: ["shape"], outputs: ["y"], attributes: { to: { int: elementType("float32") } } },
      ],
    }),
    // The engine's session options, unoptimized: the probe is the kernel's own output shape, not a folded one.
    { ...ortSessions().options, graphOptimizationLevel: "disabled" },
  );
  try {
    const shape = new Float32Array(4);
    session.run({ x: ortTensor(new Float32Array(4), [1, 4, 1, 1]) }, { y: ortTensor(shape, [4]) });
    blockSize = shape[1]!;
  } finally {
    session.dispose();
  }
  if (![4, 8, 16].includes(blockSize)) throw new Error(`ONNX Runtime's NCHWc block size probed as ${blockSize}`);
  return blockSize;
}

/** True when a conv of these channel counts runs blocked: both a multiple of the block size (group 1). */
export const nchwcFits = (inChannels: number, outChannels: number): boolean => {
  const b = nchwcBlockSize();
  return inChannels % b === 0 && outChannels % b === 0;
};

/**
 * Nodes computing `output` (NHWC) = conv of `input` (NHWC) with `filter` ([KH, KW, Cin, Cout]) and an optional [Cout]
 * `bias`, in NCHWc; `prefix` keeps their internal names apart. The caller checks `nchwcFits`.
 */
export function nchwcConvNodes(
  o: { input: string; filter: string; bias?: string; output: string; prefix: string },
  filterShape: readonly number[],
  attributes: OnnxNode["attributes"],
): { nodes: OnnxNode[]; initializers: OnnxInitializer[] } {
  const [kh, kw, cin, cout] = filterShape as [number, number, number, number];
  const b = nchwcBlockSize();
  const n = (name: string) => `${o.prefix}_${name}`;
  const initializers = [int64(n("w6"), [kh, kw, cin / b, b, cout / b, b]), int64(n("w4"), [cout, cin, kh, kw])];
  const nodes: OnnxNode[] = [
    { op: "ReorderInput", domain: NCHWC_DOMAIN, inputs: [o.input], outputs: [n("x")], attributes: { channels_last: { int: 1 } } },
    { op: "Reshape", inputs: [o.filter, n("w6")], outputs: [n("f6")] },
    // [KH, KW, Cin/b, bi, Cout/b, bo] → [Cout/b, Cin/b, KH, KW, bi, bo]: MLAS's OIHWBiBo filter blocks.
    { op: "Transpose", inputs: [n("f6")], outputs: [n("fb")], attributes: { perm: { ints: [4, 2, 0, 1, 3, 5] } } },
    { op: "Reshape", inputs: [n("fb"), n("w4")], outputs: [n("f")] },
    { op: "Conv", domain: NCHWC_DOMAIN, inputs: [n("x"), n("f"), ...(o.bias ? [o.bias] : [])], outputs: [n("y")], attributes },
    { op: "ReorderOutput", domain: NCHWC_DOMAIN, inputs: [n("y")], outputs: [o.output], attributes: { channels_last: { int: 1 }, channels: { int: cout } } },
  ];
  return { nodes, initializers };
}
