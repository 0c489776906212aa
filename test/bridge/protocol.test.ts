import assert from "node:assert/strict";
import { test } from "node:test";
import { create, equals } from "@bufbuild/protobuf";
import {
  MAX_FRAME_BYTES,
  PROTOCOL_MAJOR,
  TOPICS,
  decodeCommand,
  decodeEvent,
  decodeResult,
  encodeCommand,
  encodeEvent,
  encodeResult,
  newCommand,
} from "../../src/bridge/protocol.js";
import {
  CommandResultSchema,
  CommandSchema,
  EventSchema,
  HelloSchema,
  ImageBatchSchema,
  ImageSchema,
  MetricsSchema,
  RunState,
  SnapshotRequestSchema,
  SnapshotSchema,
  StatusSchema,
  type Event,
} from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { Rng } from "../../src/util/rng.js";

const decoders = { Event: decodeEvent, Command: decodeCommand, CommandResult: decodeResult } as const;

function imageEvent(seq: number): Event {
  return create(EventSchema, {
    runId: "run-1",
    seq,
    timeUnixMs: 1_700_000_000_123.5,
    payload: {
      case: "images",
      value: create(ImageBatchSchema, {
        step: 7,
        images: [create(ImageSchema, { png: new Uint8Array([1, 2, 3, 255]), prompt: "a red circle", reward: 0.25, width: 32, height: 32 })],
      }),
    },
  });
}

test("an event survives encode then decode unchanged", () => {
  const events = [
    imageEvent(3),
    create(EventSchema, {
      runId: "run-1",
      seq: 4_000_000_000,
      payload: { case: "metrics", value: create(MetricsSchema, { step: 9, loss: -0.125, rewardMean: 0.8, tfBytes: 2 ** 40 }) },
    }),
    create(EventSchema, { seq: 5, payload: { case: "status", value: create(StatusSchema, { state: RunState.PAUSED, message: "päused ✓" }) } }),
  ];
  for (const event of events) {
    const decoded = decodeEvent(encodeEvent(event));
    assert.equal(decoded.ok, true);
    assert.ok(decoded.ok && equals(EventSchema, decoded.value, event), `seq ${event.seq} round trips`);
  }
});

test("a command survives encode then decode unchanged, with the protocol major newCommand stamps", () => {
  const command = newCommand("cmd-1", { case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: 42 }) });
  assert.equal(command.protocolMajor, PROTOCOL_MAJOR);
  const decoded = decodeCommand(encodeCommand(command));
  assert.ok(decoded.ok);
  assert.ok(equals(CommandSchema, decoded.value, command));
  assert.equal(decoded.value.kind.case, "snapshot");
  assert.equal(decoded.value.kind.case === "snapshot" && decoded.value.kind.value.afterSeq, 42);
});

test("a command result with a hello and a snapshot survives encode then decode unchanged", () => {
  const result = create(CommandResultSchema, {
    id: "cmd-2",
    ok: true,
    message: "snapshot",
    state: RunState.RUNNING,
    hello: create(HelloSchema, { protocolMajor: 1, protocolMinor: 0, agent: "alignprop-trainer/0.1.0", eventsEndpoint: "ipc:///x" }),
    snapshot: create(SnapshotSchema, { runId: "run-1", seq: 3, firstSeq: 1, configJson: "{}", events: [imageEvent(1), imageEvent(2)] }),
  });
  const decoded = decodeResult(encodeResult(result));
  assert.ok(decoded.ok);
  assert.ok(equals(CommandResultSchema, decoded.value, result));
});

test("TOPICS lists every event payload case exactly once", () => {
  const cases = EventSchema.fields.filter((f) => f.oneof?.name === "payload").map((f) => f.localName);
  assert.deepEqual([...TOPICS].sort(), [...cases].sort());
});

test("decoding a missing frame returns an error value naming the frame kind", () => {
  for (const [what, decode] of Object.entries(decoders)) {
    assert.deepEqual(decode(undefined), { ok: false, error: `${what} frame missing` });
  }
});

test("decoding an empty frame never throws: it yields the all-default message", () => {
  // Zero bytes are a valid protobuf encoding of a message with every field unset; the server then refuses the
  // command for its protocol_major of 0.
  for (const decode of Object.values(decoders)) assert.doesNotThrow(() => decode(new Uint8Array(0)));
  const command = decodeCommand(new Uint8Array(0));
  assert.ok(command.ok);
  assert.equal(command.value.protocolMajor, 0);
  assert.equal(command.value.kind.case, undefined);
});

test("decoding garbage returns ok:false with a message saying it is not valid protobuf", () => {
  const garbage = [
    new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // an endless varint
    new Uint8Array([0x0a, 0x64, 0x61]), // field 1, length 100, 1 byte present
    new Uint8Array([0x07]), // wire type 7 does not exist
    new TextEncoder().encode("hello, trainer"),
  ];
  for (const bytes of garbage) {
    for (const [what, decode] of Object.entries(decoders)) {
      const decoded = decode(bytes);
      assert.equal(decoded.ok, false, `${what} from [${bytes}]`);
      assert.ok(!decoded.ok && decoded.error.startsWith(`${what} frame is not valid protobuf: `), !decoded.ok ? decoded.error : "");
    }
  }
});

test("decoding random bytes never throws", () => {
  const rng = new Rng(7);
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: rng.int(64) }, () => rng.int(256));
    for (const decode of Object.values(decoders)) {
      const decoded = decode(bytes);
      assert.ok(decoded.ok || decoded.error.length > 0);
    }
  }
});

test("decoding a frame over MAX_FRAME_BYTES returns ok:false naming its size and the limit, without parsing it", () => {
  const big = new Uint8Array(MAX_FRAME_BYTES + 1);
  for (const [what, decode] of Object.entries(decoders)) {
    assert.deepEqual(decode(big), {
      ok: false,
      error: `${what} frame of ${MAX_FRAME_BYTES + 1} bytes exceeds the limit of ${MAX_FRAME_BYTES}`,
    });
  }
});

test("a frame of exactly MAX_FRAME_BYTES is still decoded", () => {
  const event = imageEvent(1);
  const encoded = encodeEvent(event);
  // Pad with an unknown length-delimited field so the frame is exactly at the limit and still valid protobuf.
  const padding = MAX_FRAME_BYTES - encoded.length;
  const header = [0xba, 0x3e]; // field 999, wire type 2
  let len = padding - header.length - 4;
  const varint = [];
  for (let i = 0; i < 4; i++, len >>>= 7) varint.push((len & 0x7f) | (i < 3 ? 0x80 : 0));
  const frame = new Uint8Array(MAX_FRAME_BYTES);
  frame.set(encoded);
  frame.set([...header, ...varint], encoded.length);
  const decoded = decodeEvent(frame);
  assert.ok(decoded.ok, !decoded.ok ? decoded.error : "");
  assert.equal(decoded.value.seq, 1);
});
