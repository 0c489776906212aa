/**
 * Protocol fuzzing against a real training trainer: 10,000+ random and mutated frames on the control and observe
 * sockets and random subscriptions on the events socket; afterwards it is still training and answering, and it
 * counted every frame it refused.
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { after, test } from "node:test";
import { Dealer, XSubscriber } from "zeromq";
import { decodeResult, encodeCommand, newCommand } from "../../src/bridge/protocol.js";
import { PingSchema, RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { fuzzFrame } from "../helpers/fuzz-frames.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { Rng } from "../../src/util/rng.js";

const runs = tempRuns();
after(() => runs.cleanup());

const FRAMES_PER_SOCKET = 5_000;

test("10,000 fuzzed frames leave the trainer training, answering, and counting what it refused", async () => {
  const run = runs.prepare({ num_epochs: "100000" });
  const trainer = await runs.spawn({ configPath: run.configPath });
  const tap = new EventTap(trainer.client);
  await tap.untilStep(2);
  const rng = new Rng(1234);

  for (const endpoint of [trainer.ready.control, trainer.ready.observe]) {
    const peer = new Dealer({ linger: 0, receiveHighWaterMark: 0 });
    peer.connect(endpoint);
    // One connection is served in order: once the answer to a final ping arrives, every fuzzed frame before it has
    // been handled (answers to them may be shed under load — the trainer never waits for a slow client).
    const answered = (async () => {
      for await (const [frame] of peer) {
        const reply = decodeResult(frame);
        if (reply.ok && reply.value.id === "after-fuzz") return reply.value;
      }
      throw new Error("the socket closed before the final ping was answered");
    })();
    for (let i = 0; i < FRAMES_PER_SOCKET; i++) await peer.send(fuzzFrame(rng));
    await peer.send(encodeCommand(newCommand("after-fuzz", { case: "ping", value: create(PingSchema) })));
    assert.equal((await answered).ok, true, "the trainer still answers on the fuzzed socket");
    peer.close();
  }
  const subscriber = new XSubscriber({ linger: 0 });
  subscriber.connect(trainer.ready.events);
  for (let i = 0; i < 500; i++) await subscriber.send(Uint8Array.from({ length: 1 + rng.int(20) }, () => rng.int(256)));
  subscriber.close();

  // Some fuzzed frames are still valid pauses (the seed is fixed, so the run is deterministic): resume.
  await trainer.client.resume();
  const stepAfter = tap.metricsSteps().at(-1)! + 3;
  await tap.untilStep(stepAfter);
  assert.equal((await trainer.client.ping()).ok, true);
  const snapshot = await trainer.client.snapshot(tap.events.at(-1)!.seq);
  assert.ok(snapshot.badFrames > 1000, `the trainer counted ${snapshot.badFrames} refused frames`);
  assert.equal((await trainer.client.stop()).ok, true);
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  const steps = tap.metricsSteps();
  assert.deepEqual(steps, steps.map((_, i) => i + 1), "no step lost or repeated");
});
