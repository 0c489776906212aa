/**
 * TrainerServer over real ZeroMQ sockets (ipc in a private temp dir), driven by a raw DEALER that can send what a
 * well-behaved TrainerClient never would.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import * as zmq from "zeromq";
import { privateIpcEndpoints } from "../../src/bridge/endpoints.js";
import { PROTOCOL_MAJOR, TOPICS, encodeCommand } from "../../src/bridge/protocol.js";
import { TrainerServer, type RunCommand } from "../../src/bridge/server.js";
import {
  CommandSchema,
  HelloSchema,
  ImageBatchSchema,
  ImageSchema,
  MetricsSchema,
  PingSchema,
  RunState,
  SnapshotRequestSchema,
  StatusSchema,
  StopSchema,
} from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { Rng } from "../../src/util/rng.js";
import { Peer } from "../helpers/raw-peer.js";

/** A hang is a failure, not a stuck test run. */
const LIMIT = { timeout: 20_000 };

interface Harness {
  server: TrainerServer;
  peer: Peer;
  handled: RunCommand[];
  close(): Promise<void>;
}

async function start(): Promise<Harness> {
  const { dir, control, events, observe } = await privateIpcEndpoints();
  const handled: RunCommand[] = [];
  const server = await TrainerServer.bind({
    control,
    events,
    observe,
    runId: "run-robust",
    configJson: '{"seed":1}',
    agent: "alignprop-trainer/test",
    handle: async (command) => {
      handled.push(command);
      return { ok: command !== "stop", message: `handled ${command}`, state: RunState.PAUSED };
    },
  });
  const peer = new Peer(control);
  return {
    server,
    peer,
    handled,
    async close() {
      await peer.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test("a ping is answered with pong and the command's id", LIMIT, async () => {
  const h = await start();
  try {
    const reply = await h.peer.ping();
    assert.equal(reply.ok, true);
    assert.equal(reply.message, "pong");
    assert.equal(h.server.badFrames, 0);
  } finally {
    await h.close();
  }
});

test("a command with protocol_major 2 is refused with a message naming both versions", LIMIT, async () => {
  const h = await start();
  try {
    const reply = await h.peer.command({ case: "ping", value: create(PingSchema) }, 2);
    assert.equal(reply.ok, false);
    assert.match(reply.message, /alignprop\.v2/);
    assert.match(reply.message, new RegExp(`alignprop\\.v${PROTOCOL_MAJOR}\\b`));
    assert.equal(h.server.badFrames, 1);
  } finally {
    await h.close();
  }
});

test("a run command from a peer with another protocol major never reaches the handler", LIMIT, async () => {
  const h = await start();
  try {
    const reply = await h.peer.command({ case: "stop", value: create(StopSchema) }, 2);
    assert.equal(reply.ok, false);
    assert.deepEqual(h.handled, []);
  } finally {
    await h.close();
  }
});

test("run commands go to the handler and its outcome is the reply", LIMIT, async () => {
  const h = await start();
  try {
    const reply = await h.peer.command({ case: "stop", value: create(StopSchema) });
    assert.deepEqual(h.handled, ["stop"]);
    assert.equal(reply.ok, false);
    assert.equal(reply.message, "handled stop");
    assert.equal(reply.state, RunState.PAUSED);
  } finally {
    await h.close();
  }
});

test("a garbage frame gets an error reply and the server still answers a following ping", LIMIT, async () => {
  const h = await start();
  try {
    await h.peer.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    const error = await h.peer.next();
    assert.equal(error.ok, false);
    assert.match(error.message, /^Command frame is not valid protobuf/);
    assert.equal((await h.peer.ping()).ok, true);
    assert.equal(h.server.badFrames, 1);
  } finally {
    await h.close();
  }
});

test("a two-frame message gets an error reply and the server still answers a following ping", LIMIT, async () => {
  const h = await start();
  try {
    const ping = encodeCommand(create(CommandSchema, { id: "two", protocolMajor: PROTOCOL_MAJOR, kind: { case: "ping", value: create(PingSchema) } }));
    await h.peer.send([ping, ping]);
    const error = await h.peer.next();
    assert.equal(error.ok, false);
    assert.equal(error.message, "expected 1 frame, got 2");
    assert.equal((await h.peer.ping()).ok, true);
    assert.equal(h.server.badFrames, 1);
  } finally {
    await h.close();
  }
});

test("a command without a kind is refused as unknown and counted", LIMIT, async () => {
  const h = await start();
  try {
    const reply = await h.peer.command({ case: undefined });
    assert.equal(reply.ok, false);
    assert.match(reply.message, /no kind/);
    assert.equal(h.server.badFrames, 1);
  } finally {
    await h.close();
  }
});

test("after 1,000 random byte frames the server still answers a ping and has counted every bad frame", LIMIT, async () => {
  const h = await start();
  try {
    const rng = new Rng(1234);
    for (let i = 0; i < 1000; i++) {
      await h.peer.send(Uint8Array.from({ length: 1 + rng.int(200) }, () => rng.int(256)));
    }
    const pong = await h.peer.ping();
    assert.equal(pong.ok, true);
    assert.equal(pong.message, "pong");
    // With this seed no random frame happens to be a valid v1 command, so each one was refused.
    assert.equal(h.server.badFrames, 1000);
    assert.deepEqual(h.handled, []);
  } finally {
    await h.close();
  }
});

test("a snapshot holds the run's config and latest status, and after_seq returns only later events", LIMIT, async () => {
  const h = await start();
  try {
    h.server.publish({ case: "status", value: create(StatusSchema, { state: RunState.RUNNING, step: 0 }) });
    for (let step = 1; step <= 9; step++) h.server.publish({ case: "metrics", value: create(MetricsSchema, { step }) });

    const all = await h.peer.command({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: 0 }) });
    assert.ok(all.snapshot);
    assert.deepEqual(all.snapshot.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(all.snapshot.configJson, '{"seed":1}');
    assert.equal(all.snapshot.runId, "run-robust");
    assert.equal(all.snapshot.status?.state, RunState.RUNNING);
    assert.equal(all.state, RunState.RUNNING, "every reply carries the run state");

    const later = await h.peer.command({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: 6 }) });
    assert.ok(later.snapshot);
    assert.deepEqual(later.snapshot.events.map((e) => e.seq), [7, 8, 9, 10]);
    assert.equal(later.snapshot.seq, 10);
    assert.equal(later.snapshot.firstSeq, 1);

    const none = await h.peer.command({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: 10 }) });
    assert.deepEqual(none.snapshot?.events, []);
  } finally {
    await h.close();
  }
});

test("hello answers with the protocol version, the run id and the bound events endpoint", LIMIT, async () => {
  const h = await start();
  try {
    const reply = await h.peer.command({ case: "hello", value: create(HelloSchema, { protocolMajor: PROTOCOL_MAJOR, agent: "raw-dealer" }) });
    assert.equal(reply.ok, true);
    assert.equal(reply.hello?.protocolMajor, PROTOCOL_MAJOR);
    assert.equal(reply.hello?.runId, "run-robust");
    assert.equal(reply.hello?.eventsEndpoint, h.server.endpoints.events);
  } finally {
    await h.close();
  }
});

test("publish() never blocks on a subscriber that does not read: 5,000 events go out and a snapshot has the latest", LIMIT, async () => {
  const h = await start();
  const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 10 });
  try {
    const connected = (async () => {
      while ((await sub.events.receive()).type !== "connect");
    })();
    for (const topic of TOPICS) sub.subscribe(topic);
    sub.connect(h.server.endpoints.events);
    await connected;

    const png = new Uint8Array(4096).fill(7);
    for (let seq = 1; seq <= 5000; seq++) {
      const payload =
        seq % 10 === 0
          ? { case: "images" as const, value: create(ImageBatchSchema, { step: seq, images: [create(ImageSchema, { png, prompt: "a red circle" })] }) }
          : { case: "metrics" as const, value: create(MetricsSchema, { step: seq }) };
      const event = h.server.publish(payload);
      assert.equal(event.seq, seq);
      // Let the publish queue hand frames to the socket now and then, so the PUB side really fills up.
      if (seq % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }

    assert.equal(h.server.lastSeq, 5000);
    const reply = await h.peer.command({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: 4990 }) });
    assert.ok(reply.snapshot);
    assert.equal(reply.snapshot.seq, 5000);
    assert.deepEqual(reply.snapshot.events.map((e) => e.seq), [4991, 4992, 4993, 4994, 4995, 4996, 4997, 4998, 4999, 5000]);
  } finally {
    sub.close();
    await h.close();
  }
});
