/**
 * The safetensors format (what diffusers and transformers save): an 8-byte little-endian header length, a JSON
 * header naming each tensor's dtype, shape and byte range, then the raw little-endian data. The header is padded with
 * spaces to a multiple of 8 bytes; the byte ranges must tile the data section exactly (no holes, no overlaps).
 *
 * Floating-point tensors (F32, F16, BF16, F64) are read as Float32Array (`tensors`); integer and bool tensors (I64,
 * I32, I16, I8, U8, BOOL) as Int32Array (`ints`; I64 values must fit in 32 bits). Written: F32 and I32/I64.
 */
import { open, readFile } from "node:fs/promises";

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}
export type TensorMap = Record<string, NamedArray>;
export interface IntArray {
  shape: number[];
  data: Int32Array;
  dtype: IntDType;
}
export type IntMap = Record<string, IntArray>;

type FloatDType = "F64" | "F32" | "F16" | "BF16";
type IntDType = "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";
const BYTES: Record<FloatDType | IntDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const isFloat = (d: string): d is FloatDType => d === "F64" || d === "F32" || d === "F16" || d === "BF16";

/** Headers larger than this are refused before being read (the real SD checkpoints have ~100 KB headers). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface HeaderEntry {
  dtype: FloatDType | IntDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}
export interface Header {
  entries: Map<string, HeaderEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataStart: number;
}

export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}, ints: IntMap = {}): Uint8Array {
  const parts: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }> = [];
  const add = (name: string, dtype: string, shape: number[], bytes: Uint8Array, count: number) => {
    const expected = shape.reduce((a, b) => a * b, 1);
    if (expected !== count) throw new Error(`tensor "${name}": shape [${shape}] holds ${expected} values but data has ${count}`);
    if (parts.some((p) => p.name === name)) throw new Error(`tensor "${name}" appears twice`);
    parts.push({ name, dtype, shape, bytes });
  };
  for (const [name, t] of Object.entries(tensors)) add(name, "F32", t.shape, bytesOf(t.data), t.data.length);
  for (const [name, t] of Object.entries(ints)) add(name, t.dtype === "I64" ? "I64" : "I32", t.shape, t.dtype === "I64" ? int64Bytes(t.data) : bytesOf(t.data), t.data.length);
  parts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = Object.keys(metadata).length ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const { name, dtype, shape, bytes } of parts) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    offset += bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + padded + offset).fill(0x20, 8 + json.length, 8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  let at = 8 + padded;
  for (const { bytes } of parts) {
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

/** Parses and checks the header: `prefix` holds at least the first 8 + header-length bytes; `fileLength` the total. */
export function parseHeader(prefix: Uint8Array, fileLength: number, source: string): Header {
  if (prefix.length < 8 || fileLength < 8) throw new Error(`${source}: ${fileLength} bytes is too short for a safetensors file`);
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  if (length > MAX_HEADER_BYTES) throw new Error(`${source}: header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (8 + length > fileLength) throw new Error(`${source}: header length ${length} runs past the end of the ${fileLength}-byte file`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(prefix.subarray(8, 8 + length)));
  } catch (err) {
    throw new Error(`${source}: header is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error(`${source}: header is not a JSON object`);
  const dataStart = 8 + length;
  const entries = new Map<string, HeaderEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === "__metadata__") {
      metadata = value as Record<string, string>;
      continue;
    }
    entries.set(name, checkEntry(name, value, source));
  }
  for (const [name, e] of entries) {
    if (dataStart + e.end > fileLength) {
      throw new Error(`${source}: tensor "${name}" byte range [${e.begin}, ${e.end}) runs past the end of the data (${fileLength - dataStart} bytes)`);
    }
  }
  const ranges = [...entries].sort(([, a], [, b]) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const [name, e] of ranges) {
    if (e.begin !== cursor) {
      throw new Error(`${source}: tensor "${name}" starts at byte ${e.begin} but the previous tensor ends at ${cursor} (ranges must tile the data without holes or overlaps)`);
    }
    cursor = e.end;
  }
  if (dataStart + cursor !== fileLength) {
    throw new Error(`${source}: tensors cover ${cursor} data bytes but the file holds ${fileLength - dataStart}`);
  }
  return { entries, metadata, dataStart };
}

function checkEntry(name: string, value: unknown, source: string): HeaderEntry {
  const { dtype, shape, data_offsets } = (value ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  const where = `${source}: tensor "${name}"`;
  if (typeof dtype !== "string" || !(dtype in BYTES)) throw new Error(`${where} has unsupported dtype ${JSON.stringify(dtype)}`);
  const nonNegInt = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!Array.isArray(shape) || !shape.every(nonNegInt)) throw new Error(`${where} has an invalid shape ${JSON.stringify(shape)}`);
  if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every(nonNegInt)) {
    throw new Error(`${where} has invalid data_offsets ${JSON.stringify(data_offsets)}`);
  }
  const [begin, end] = data_offsets as [number, number];
  const bytes = BYTES[dtype as FloatDType] * (shape as number[]).reduce((a: number, b: number) => a * b, 1);
  if (end - begin !== bytes) {
    throw new Error(`${where}: byte range [${begin}, ${end}) holds ${end - begin} bytes but ${dtype} [${shape}] needs ${bytes}`);
  }
  return { dtype: dtype as HeaderEntry["dtype"], shape: shape as number[], begin, end };
}

/** Converts one tensor's raw little-endian bytes. */
export function convert(name: string, e: HeaderEntry, raw: Uint8Array, source: string): NamedArray | IntArray {
  const n = e.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (isFloat(e.dtype)) {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (e.dtype === "F32") out[i] = view.getFloat32(4 * i, true);
      else if (e.dtype === "F64") out[i] = view.getFloat64(8 * i, true);
      else if (e.dtype === "BF16") out[i] = bf16(view.getUint16(2 * i, true));
      else out[i] = f16(view.getUint16(2 * i, true));
    }
    return { shape: e.shape, data: out };
  }
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (e.dtype === "I64") {
      const v = view.getBigInt64(8 * i, true);
      if (v > 2147483647n || v < -2147483648n) throw new Error(`${source}: tensor "${name}" value ${v} does not fit in 32 bits`);
      out[i] = Number(v);
    } else if (e.dtype === "I32") out[i] = view.getInt32(4 * i, true);
    else if (e.dtype === "I16") out[i] = view.getInt16(2 * i, true);
    else if (e.dtype === "I8") out[i] = view.getInt8(i);
    else out[i] = view.getUint8(i);
  }
  return { shape: e.shape, data: out, dtype: e.dtype };
}

export interface Decoded {
  tensors: TensorMap;
  ints: IntMap;
  metadata: Record<string, string>;
}

export function decodeSafetensors(bytes: Uint8Array, source = "safetensors data"): Decoded {
  const header = parseHeader(bytes, bytes.length, source);
  const out: Decoded = { tensors: {}, ints: {}, metadata: header.metadata };
  for (const [name, e] of header.entries) {
    const t = convert(name, e, bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end), source);
    if ("dtype" in t) out.ints[name] = t;
    else out.tensors[name] = t;
  }
  return out;
}

export async function readSafetensors(path: string): Promise<Decoded> {
  return decodeSafetensors(new Uint8Array(await readFile(path)), path);
}

/**
 * Opens a file for reading tensors one at a time, without loading the whole file (SD checkpoints are gigabytes).
 */
export async function openSafetensors(path: string) {
  const handle = await open(path, "r");
  const { size } = await handle.stat();
  const readAt = async (position: number, length: number) => {
    const buf = new Uint8Array(length);
    const { bytesRead } = await handle.read(buf, 0, length, position);
    if (bytesRead !== length) throw new Error(`${path}: short read at byte ${position}`);
    return buf;
  };
  let header: Header;
  try {
    const lengthBytes = await readAt(0, Math.min(8, size));
    const length = lengthBytes.length === 8 ? Number(new DataView(lengthBytes.buffer).getBigUint64(0, true)) : 0;
    const prefix = await readAt(0, Math.min(size, 8 + Math.min(length, MAX_HEADER_BYTES + 1)));
    header = parseHeader(prefix, size, path);
  } catch (err) {
    await handle.close();
    throw err;
  }
  return {
    header,
    names: () => [...header.entries.keys()],
    async read(name: string): Promise<NamedArray | IntArray> {
      const e = header.entries.get(name);
      if (!e) throw new Error(`${path}: no tensor named "${name}"`);
      return convert(name, e, await readAt(header.dataStart + e.begin, e.end - e.begin), path);
    },
    close: () => handle.close(),
  };
}

const bytesOf = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function int64Bytes(a: Int32Array): Uint8Array {
  const out = new BigInt64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = BigInt(a[i]!);
  return new Uint8Array(out.buffer);
}

/** IEEE half → float: sign, 5-bit exponent (bias 15), 10-bit fraction; subnormals and inf/NaN included. */
function f16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** bfloat16 is the top half of a float32. */
const bf16Buf = new DataView(new ArrayBuffer(4));
function bf16(h: number): number {
  bf16Buf.setUint32(0, h << 16);
  return bf16Buf.getFloat32(0);
}
