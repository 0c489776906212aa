/**
 * Attach survives the network: a partition (no traffic) is noticed by heartbeats and healed by reconnecting, a reset
 * connection by ZeroMQ's own reconnect; either way the client catches up from a snapshot with no step lost or seen
 * twice. A trainer restarted from its checkpoint is followed too.
 */
import { after, test } from "node:test";
import { aRestartedTrainerIsFollowedFromItsCheckpoint, partitionAndResetLoseNoStep, tfjsEngine, tfjsRespawn } from "../helpers/contract.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());

const spawn = tfjsEngine(runs);

test("a network partition is noticed by heartbeats, healed by reconnecting, and loses no step", async () => {
  await partitionAndResetLoseNoStep(spawn);
});

test("a trainer killed and resumed on the same endpoints is followed from its checkpoint", async () => {
  await aRestartedTrainerIsFollowedFromItsCheckpoint(spawn, tfjsRespawn(runs));
});
