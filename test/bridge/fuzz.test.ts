/**
 * Protocol fuzzing against a real training trainer: 10,000+ random and mutated frames on the control and observe
 * sockets and random subscriptions on the events socket; afterwards it is still training and answering, and it
 * counted every frame it refused.
 */
import { after, test } from "node:test";
import { fuzzedFramesLeaveTheTrainerServing, tfjsEngine } from "../helpers/contract.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("10,000 fuzzed frames leave the trainer training, answering, and counting what it refused", async () => {
  await fuzzedFramesLeaveTheTrainerServing(tfjsEngine(runs), 5_000);
});
