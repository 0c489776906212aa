/**
 * The Python wire keeps serving whatever arrives: malformed, multi-frame, wrong-version, kind-less, random, fuzzed and
 * oversized frames are answered or dropped and counted in Snapshot.bad_frames, while the scripted run goes on.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Dealer } from "zeromq";
import { MAX_FRAME_BYTES, PROTOCOL_MAJOR, encodeCommand } from "../../src/bridge/protocol.js";
import { CommandSchema, PingSchema, RunState, StopSchema } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { Rng } from "../../src/util/rng.js";
import { EventTap } from "../helpers/event-tap.js";
import { fuzzedFramesLeaveTheTrainerServing } from "../helpers/contract.js";
import { Peer } from "../helpers/raw-peer.js";
import { tempRuns } from "../helpers/runs.js";
import { pythonDemoEngine, spawnPythonDemo } from "./python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());

async function running() {
  const trainer = await spawnPythonDemo(runs, { num_epochs: "100000" });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  const badFrames = async () => (await trainer.client.snapshot(tap.events.at(-1)!.seq)).badFrames;
  const finish = async () => {
    assert.equal((await trainer.client.stop()).ok, true);
    await tap.untilState(RunState.DONE);
    assert.equal((await trainer.exit).exitCode, 0);
    const steps = tap.metricsSteps();
    assert.deepEqual(steps, steps.map((_, i) => i + 1), "no step lost or repeated");
  };
  return { trainer, tap, badFrames, finish };
}

test("malformed, two-frame, wrong-version and kind-less commands are answered with the reason and counted", async () => {
  const { trainer, tap, badFrames, finish } = await running();
  const peer = new Peer(trainer.ready.control);
  try {
    await peer.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    assert.match((await peer.next()).message, /^Command frame is not valid protobuf/);
    const ping = encodeCommand(create(CommandSchema, { id: "two", protocolMajor: PROTOCOL_MAJOR, kind: { case: "ping", value: create(PingSchema) } }));
    await peer.send([ping, ping]);
    assert.equal((await peer.next()).message, "expected 1 frame, got 2");
    const v2 = await peer.command({ case: "stop", value: create(StopSchema) }, 2);
    assert.equal(v2.ok, false);
    assert.equal(
      v2.message,
      `protocol version mismatch: peer speaks alignprop.v2, this trainer speaks alignprop.v${PROTOCOL_MAJOR}; use matching alignprop versions`,
    );
    const kindless = await peer.command({ case: undefined });
    assert.equal(kindless.message, "command has no kind (unknown command from a newer client?)");
    assert.equal(kindless.state, RunState.RUNNING, "every reply carries the run state");
    assert.equal((await peer.ping()).message, "pong");
    assert.equal(await badFrames(), 4);
    const at = tap.metricsSteps().at(-1)!;
    await tap.untilStep(at + 2);
    assert.ok(!tap.events.some((e) => e.payload.case === "status" && e.payload.value.state === RunState.STOPPING), "the v2 stop never reached the run");
  } finally {
    await peer.close();
  }
  await finish();
});

test("after 1,000 random byte frames the Python trainer answers a ping and has counted every one", async () => {
  const { trainer, badFrames, finish } = await running();
  const peer = new Peer(trainer.ready.control);
  const rng = new Rng(1234);
  for (let i = 0; i < 1000; i++) await peer.send(Uint8Array.from({ length: 1 + rng.int(200) }, () => rng.int(256)));
  assert.equal((await peer.ping()).message, "pong");
  await peer.close();
  // With this seed no random frame is a valid v1 command (as for the TS server), so each one was refused.
  assert.equal(await badFrames(), 1000);
  await finish();
});

test("a frame over the size limit disconnects its sender before it reaches the trainer, which serves on", async () => {
  const { trainer, badFrames, finish } = await running();
  const peer = new Dealer({ linger: 0 });
  const disconnected = (async () => {
    for (;;) if ((await peer.events.receive()).type === "disconnect") return;
  })();
  peer.connect(trainer.ready.control);
  await peer.send(new Uint8Array(MAX_FRAME_BYTES + 1));
  await disconnected;
  peer.close();
  assert.equal((await trainer.client.ping()).ok, true);
  // libzmq drops it (ZMQ_MAXMSGSIZE) before any decoding, as for the TS server: there is nothing to count.
  assert.equal(await badFrames(), 0);
  await finish();
});

test("4,000 fuzzed frames on control and observe and random subscriptions leave the run training and counting", async () => {
  await fuzzedFramesLeaveTheTrainerServing(pythonDemoEngine(runs), 2_000);
});
