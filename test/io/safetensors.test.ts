import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { decodeSafetensors, encodeSafetensors, openSafetensors, readSafetensors, type TensorMap } from "../../src/io/safetensors.js";

const headerLength = (bytes: Uint8Array) => Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
const headerText = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(8, 8 + headerLength(bytes)));

/** A file with a hand-written header and `data` as its data section. */
function fileWithHeader(header: unknown, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

test("tensors and metadata survive encode then decode", () => {
  const tensors: TensorMap = {
    "net.0.weight": { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 0, -0, 1e-30]) },
    "net.0.bias": { shape: [3], data: Float32Array.from([Infinity, -Infinity, 7]) },
    "optimizer.iter": { shape: [], data: Float32Array.from([12]) },
    "empty": { shape: [0, 4], data: new Float32Array(0) },
  };
  const metadata = { format: "pt", step: "12" };
  const { tensors: back, metadata: meta } = decodeSafetensors(encodeSafetensors(tensors, metadata));
  assert.deepEqual(meta, metadata);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(tensors).sort());
  for (const [name, t] of Object.entries(tensors)) {
    assert.deepEqual(back[name]!.shape, t.shape, name);
    assert.deepEqual(back[name]!.data, t.data, name);
  }
});

test("a tensor that is a view into a larger buffer is written from its own bytes only", () => {
  const big = Float32Array.from([9, 9, 1, 2, 3, 9]);
  const view = big.subarray(2, 5);
  const { tensors } = decodeSafetensors(encodeSafetensors({ x: { shape: [3], data: view } }));
  assert.deepEqual(tensors.x!.data, Float32Array.from([1, 2, 3]));
});

test("a file without metadata has no __metadata__ entry and decodes to empty metadata", () => {
  const bytes = encodeSafetensors({ x: { shape: [1], data: Float32Array.from([1]) } });
  assert.equal(JSON.parse(headerText(bytes)).__metadata__, undefined);
  assert.deepEqual(decodeSafetensors(bytes).metadata, {});
});

test("the header is padded with spaces so the data section starts on an 8-byte boundary", () => {
  for (const name of ["a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh"]) {
    const bytes = encodeSafetensors({ [name]: { shape: [1], data: Float32Array.from([1]) } });
    const n = headerLength(bytes);
    assert.equal(n % 8, 0, `header for tensor "${name}" is ${n} bytes`);
    const text = headerText(bytes);
    assert.equal(text.trimEnd().length > n - 8, true, "at most 7 bytes of padding");
    assert.match(text, /^\{.*\} *$/);
  }
});

test(
  "the header is padded to 8 bytes even when metadata or a tensor name is not ASCII",

  () => {
    const bytes = encodeSafetensors({ "café.weight": { shape: [1], data: Float32Array.from([1]) } }, { prompt: "a red ▲" });
    assert.equal(headerLength(bytes) % 8, 0, `header is ${headerLength(bytes)} bytes`);
  },
);

test("a tiny known file has exactly this byte layout: length, header JSON sorted by name, little-endian data", () => {
  const bytes = encodeSafetensors({
    b: { shape: [1], data: Float32Array.from([0.5]) },
    a: { shape: [2], data: Float32Array.from([1, -2]) },
  });
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
  assert.equal(json.length, 108);
  assert.equal(bytes.length, 8 + 112 + 12);
  assert.deepEqual([...bytes.subarray(0, 8)], [112, 0, 0, 0, 0, 0, 0, 0]);
  assert.equal(headerText(bytes), json + "    ");
  assert.deepEqual(
    [...bytes.subarray(120)],
    [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f], // 1.0, -2.0, 0.5 as f32 LE
  );
});

test("encoding a tensor whose data does not fill its shape names the tensor, its shape and its length", () => {
  assert.throws(() => encodeSafetensors({ "net.2.bias": { shape: [2, 3], data: new Float32Array(5) } }), {
    message: 'tensor "net.2.bias": shape [2,3] holds 6 values but data has 5',
  });
});

test("decoding fewer than 8 bytes says the data is too short", () => {
  assert.throws(() => decodeSafetensors(new Uint8Array(5), "model.safetensors"), {
    message: "model.safetensors: 5 bytes is too short for a safetensors file",
  });
});

test("decoding a file cut inside its header says the header runs past the end", () => {
  const bytes = encodeSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, 20), "cut.safetensors"), /^Error: cut\.safetensors: header length 56 runs past the end of the 20-byte file$/);
});

test("decoding a file cut inside its data names the tensor that no longer fits", () => {
  const bytes = encodeSafetensors({
    first: { shape: [2], data: new Float32Array(2) },
    second: { shape: [2, 2], data: new Float32Array(4) },
  });
  assert.throws(() => decodeSafetensors(bytes.subarray(0, bytes.length - 4)), {
    message: 'safetensors data: tensor "second" byte range [8, 24) runs past the end of the data (20 bytes)',
  });
});

test("decoding a tensor of an unsupported dtype names the tensor and the dtype", () => {
  const bytes = fileWithHeader({ "unet.conv_in.weight": { dtype: "F8_E4M3", shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2));
  assert.throws(() => decodeSafetensors(bytes, "fp8.safetensors"), {
    message: 'fp8.safetensors: tensor "unet.conv_in.weight" has unsupported dtype "F8_E4M3"',
  });
});

test("F16 and BF16 tensors decode to float32 values, I64 tensors to int32", () => {
  // F16: 1.0 = 0x3c00, -2.5 = 0xc100, 2^-24 (smallest subnormal) = 0x0001; BF16: 1.0 = 0x3f80, -0.5 = 0xbf00.
  const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc100, 0x0001]).buffer);
  const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xbf00]).buffer);
  const i64 = new Uint8Array(new BigInt64Array([0n, 76n, -3n]).buffer);
  const data = new Uint8Array([...f16, ...bf16, ...i64]);
  const bytes = fileWithHeader(
    {
      h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
      b: { dtype: "BF16", shape: [2], data_offsets: [6, 10] },
      "text_model.embeddings.position_ids": { dtype: "I64", shape: [1, 3], data_offsets: [10, 34] },
    },
    data,
  );
  const { tensors, ints } = decodeSafetensors(bytes);
  assert.deepEqual([...tensors.h!.data], [1, -2.5, 2 ** -24]);
  assert.deepEqual([...tensors.b!.data], [1, -0.5]);
  assert.deepEqual([...ints["text_model.embeddings.position_ids"]!.data], [0, 76, -3]);
  assert.equal(ints["text_model.embeddings.position_ids"]!.dtype, "I64");
});

test("overlapping or gapped byte ranges are refused, naming the tensor", () => {
  const overlap = fileWithHeader(
    { a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [2], data_offsets: [4, 12] } },
    new Uint8Array(12),
  );
  assert.throws(() => decodeSafetensors(overlap), /tensor "b" starts at byte 4 but the previous tensor ends at 8/);
  const gap = fileWithHeader({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8));
  assert.throws(() => decodeSafetensors(gap), /tensor "a" starts at byte 4 but the previous tensor ends at 0/);
});

test("a huge header length is refused before anything is read", () => {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setBigUint64(0, 2n ** 40n, true);
  assert.throws(() => decodeSafetensors(bytes, "huge.safetensors"), /huge\.safetensors: header length 1099511627776 exceeds/);
});

test("openSafetensors reads single tensors from a file without loading the rest", async () => {
  const dir = await mkdtemp(join(tmpdir(), "alignprop-st-"));
  try {
    const path = join(dir, "m.safetensors");
    await writeFile(path, encodeSafetensors({ a: { shape: [2], data: Float32Array.from([1, 2]) }, b: { shape: [1], data: Float32Array.from([3]) } }, { format: "pt" }));
    const file = await openSafetensors(path);
    assert.deepEqual(file.names().sort(), ["a", "b"]);
    assert.deepEqual(file.header.metadata, { format: "pt" });
    assert.deepEqual([...(await file.read("b")).data], [3]);
    await assert.rejects(file.read("c"), /no tensor named "c"/);
    await file.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a fuzzed file never crashes the decoder: every mutation decodes or throws an Error naming the source", () => {
  const good = encodeSafetensors({ a: { shape: [3], data: Float32Array.from([1, 2, 3]) }, b: { shape: [2], data: Float32Array.from([4, 5]) } });
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 3000; i++) {
    const bytes = good.slice(0, 1 + Math.floor(rand() * good.length));
    for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
    try {
      decodeSafetensors(bytes, "fuzz.safetensors");
    } catch (err) {
      assert.ok(err instanceof Error && err.message.startsWith("fuzz.safetensors: "), String(err));
    }
  }
});

test("decoding a tensor whose shape does not match its byte range names the tensor", () => {
  const bytes = fileWithHeader({ "net.0.weight": { dtype: "F32", shape: [3, 3], data_offsets: [0, 32] } }, new Uint8Array(32));
  assert.throws(() => decodeSafetensors(bytes), {
    message: 'safetensors data: tensor "net.0.weight": byte range [0, 32) holds 32 bytes but F32 [3,3] needs 36',
  });
});

test(
  "decoding a tensor whose byte range starts before the data section is an error naming the tensor",

  () => {
    const bytes = fileWithHeader({ w: { dtype: "F32", shape: [2], data_offsets: [-4, 4] } }, new Uint8Array(4));
    assert.throws(() => decodeSafetensors(bytes), /tensor "w"/);
  },
);

test(
  "decoding a header that is not JSON is an error naming the source",

  () => {
    const bytes = new Uint8Array(8 + 4);
    new DataView(bytes.buffer).setBigUint64(0, 4n, true);
    bytes.set(new TextEncoder().encode("{nop"), 8);
    assert.throws(() => decodeSafetensors(bytes, "broken.safetensors"), /broken\.safetensors/);
  },
);

test("decoded tensors own their bytes: changing the file buffer afterwards does not change them", () => {
  const bytes = encodeSafetensors({ x: { shape: [2], data: Float32Array.from([1, 2]) } });
  const { tensors } = decodeSafetensors(bytes);
  bytes.fill(0, 8 + headerLength(bytes));
  assert.deepEqual(tensors.x!.data, Float32Array.from([1, 2]));
});

test("readSafetensors reads a file and names its path in errors", async () => {
  const dir = await mkdtemp(join(tmpdir(), "alignprop-safetensors-"));
  try {
    const good = join(dir, "model.safetensors");
    await writeFile(good, encodeSafetensors({ w: { shape: [1, 2], data: Float32Array.from([3, 4]) } }, { format: "pt" }));
    const { tensors, metadata } = await readSafetensors(good);
    assert.deepEqual(metadata, { format: "pt" });
    assert.deepEqual(tensors.w, { shape: [1, 2], data: Float32Array.from([3, 4]) });

    const bad = join(dir, "short.safetensors");
    await writeFile(bad, new Uint8Array(3));
    await assert.rejects(readSafetensors(bad), { message: `${bad}: 3 bytes is too short for a safetensors file` });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
