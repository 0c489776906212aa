/**
 * The final grace (FINAL_GRACE_MS): a trainer that has ended keeps answering until a client confirms it has every
 * event, so a client that was reconnecting when DONE went out still gets it; with nobody to confirm, close() waits
 * out the grace; a run that has not ended closes at once. Real TrainerServer and TrainerClient over tcp, through a
 * proxy that partitions them; and the same on the real TF.js trainer, stopped by another peer while the client is cut off
 * (the contract test/helpers/contract.ts also runs on the Python wire and the PyTorch trainer).
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { companionEndpoints } from "../../src/bridge/endpoints.js";
import { TrainerClient } from "../../src/bridge/client.js";
import { TrainerServer } from "../../src/bridge/server.js";
import { MetricsSchema, RunState, StatusSchema } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { aClientCutOffWhenTheRunEndsStillGetsDone, contiguous, note, tfjsEngine } from "../helpers/contract.js";
import { EventTap } from "../helpers/event-tap.js";
import { freePortTriple } from "../helpers/ports.js";
import { tempRuns } from "../helpers/runs.js";
import { TcpProxy } from "../helpers/tcp-proxy.js";

/** A hang is a failure, not a stuck test run. */
const LIMIT = { timeout: 30_000 };
/** Longer than any test here may run: a close() that returns proves it did not wait the grace out. */
const NEVER_MS = 10 * 60_000;

async function serve(port: number): Promise<TrainerServer> {
  const control = `tcp://127.0.0.1:${port}`;
  return TrainerServer.bind({
    control,
    ...companionEndpoints(control),
    runId: "run-grace",
    configJson: "{}",
    agent: "alignprop-trainer/test",
    handle: async () => ({ ok: true, message: "", state: RunState.RUNNING }),
  });
}

const status = (state: RunState) => ({ case: "status" as const, value: create(StatusSchema, { state, message: RunState[state] }) });
const metrics = (step: number) => ({ case: "metrics" as const, value: create(MetricsSchema, { step }) });

test("a client reconnecting when DONE goes out gets it from the ended trainer, whose close() ends on its confirmation", LIMIT, async () => {
  const port = await freePortTriple();
  const server = await serve(port);
  const proxy = await TcpProxy.start("127.0.0.2", [port, port + 1, port + 2], "127.0.0.1");
  const client = await TrainerClient.connect(`tcp://127.0.0.2:${port}`, { reconnect: true, heartbeatMs: 200, deadAfterMs: 1000 });
  const tap = new EventTap(client);
  try {
    server.publish(status(RunState.RUNNING));
    for (let step = 1; step <= 3; step++) server.publish(metrics(step));
    await tap.untilStep(3);
    proxy.freeze();
    await tap.until(note(/reconnecting/), "the client noticing the silence");
    // The run ends while the client has no subscription: the DONE frame never reaches it.
    server.publish(metrics(4));
    server.publish(status(RunState.DONE));
    const closing = server.close(NEVER_MS);
    proxy.thaw();
    await tap.untilState(RunState.DONE, 20_000);
    await closing;
    await tap.ended;
    const seqs = tap.events.filter((e) => e.seq > 0).map((e) => e.seq);
    assert.ok(contiguous(seqs) && seqs[0] === 1 && seqs.at(-1) === server.lastSeq, `every seq once, up to DONE (got ${seqs})`);
    assert.deepEqual(tap.metricsSteps(), [1, 2, 3, 4]);
  } finally {
    await client.close();
    await proxy.close();
  }
});

test("an ended run's close() waits out its grace when no client confirms; a run that has not ended closes at once", LIMIT, async () => {
  const ended = await serve(await freePortTriple());
  ended.publish(status(RunState.FAILED));
  const started = Date.now();
  await ended.close(300);
  assert.ok(Date.now() - started >= 290, "kept answering for the grace");

  const running = await serve(await freePortTriple());
  running.publish(status(RunState.RUNNING));
  await running.close(NEVER_MS); // returns: nothing to wait for
});

const runs = tempRuns();
after(() => runs.cleanup());

test("the TF.js trainer: a client cut off when another peer stops the run still gets DONE, and the trainer exits on its confirmation", LIMIT, async () => {
  await aClientCutOffWhenTheRunEndsStillGetsDone(tfjsEngine(runs));
});
