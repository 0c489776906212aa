/**
 * The Python wire under a bad network and a stalled dashboard: heartbeats (snapshot requests) notice a partition,
 * the client reconnects and catches up; a reset connection leaves a gap in seq that a snapshot fills; a subscriber
 * that never reads slows nothing and costs the others nothing.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Subscriber } from "zeromq";
import { TrainerClient } from "../../src/bridge/client.js";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { EventTap } from "../helpers/event-tap.js";
import { freePortTriple } from "../helpers/ports.js";
import { tempRuns } from "../helpers/runs.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";
import { spawnPythonDemo } from "./python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());

const note = (text: RegExp) => (e: Event) => e.seq === 0 && e.payload.case === "log" && text.test(e.payload.value.message);
const contiguous = (xs: number[]) => xs.every((x, i) => x === xs[0]! + i);

test("a partition is noticed by heartbeats and healed by reconnecting, and a reset's seq gap is filled: no step lost", async () => {
  const port = await freePortTriple();
  const control = `tcp://127.0.0.1:${port}`;
  const trainer = await spawnPythonDemo(runs, { num_epochs: "100000" }, { endpoints: { control, ...companionEndpoints(control) }, stepMs: 10 });
  await trainer.client.close();
  const proxy = await TcpProxy.start("127.0.0.2", [port, port + 1, port + 2], "127.0.0.1");
  const client = await TrainerClient.connect(`tcp://127.0.0.2:${port}`, { reconnect: true, heartbeatMs: 200, deadAfterMs: 1000 });
  const tap = new EventTap(client);
  try {
    await tap.untilStep(5);
    proxy.freeze();
    await tap.until(note(/no word from the trainer .* reconnecting/), "the client noticing the silence");
    proxy.thaw();
    await tap.until(note(/reconnected; catching up/), "the reconnection");
    const at = tap.metricsSteps().at(-1)!;
    await tap.untilStep(at + 5);
    proxy.drop();
    await tap.untilStep(at + 40);
    assert.equal((await client.stop()).ok, true);
    await tap.untilState(RunState.DONE);
    const steps = tap.metricsSteps();
    assert.ok(contiguous(steps) && steps[0] === 1, `steps 1..${steps.at(-1)} each once (got ${steps.length})`);
    const seqs = tap.events.filter((e) => e.seq > 0).map((e) => e.seq);
    assert.ok(contiguous(seqs) && seqs[0] === 1, "every seq once");
    assert.ok(client.reconnects >= 1);
    assert.equal((await trainer.exit).exitCode, 0);
  } finally {
    await client.close();
    await proxy.close();
  }
});

test("a subscriber that never reads loses frames at its high-water mark, while another client misses no event", async () => {
  const steps = 600;
  const trainer = await spawnPythonDemo(runs, { num_epochs: String(steps), log_image_freq: "1", train_batch_size: "16" }, { stepMs: 1 });
  const frozen = new Subscriber({ receiveHighWaterMark: 4, receiveTimeout: 500 });
  frozen.subscribe();
  frozen.connect(trainer.ready.events);
  const tap = new EventTap(trainer.client);
  await tap.ended;
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, exit.stderrTail);
  assert.deepEqual(tap.metricsSteps(), Array.from({ length: steps }, (_, i) => i + 1));
  const seqs = tap.seqs();
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "every seq once, image batches included");
  let reachedFrozen = 0;
  try {
    for (;;) await frozen.receive(), reachedFrozen++;
  } catch {
    // The bounded receive timed out: nothing more was kept for the frozen subscriber.
  }
  frozen.close();
  process.stdout.write(`frozen subscriber received ${reachedFrozen} of ${seqs.length} frames\n`);
  assert.ok(reachedFrozen < seqs.length / 2, `the frozen subscriber got ${reachedFrozen} of ${seqs.length} frames: the rest were dropped, not waited for`);
});
