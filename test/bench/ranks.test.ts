/** `alignprop bench --ranks`: the throughput it reports from a run's `--ci` lines, and its flag's checks. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { medianThroughput } from "../../src/bench/ranks.js";
import { alignprop } from "../helpers/cli.js";

const metrics = (step: number, samplesPerSecond: number) => JSON.stringify({ runId: "r", seq: step, metrics: { step, samplesPerSecond } });

test("the job's samples/s is the median of the Metrics events after the first step's", () => {
  const lines = ['{"status":{"state":"RUN_STATE_RUNNING"}}', metrics(1, 100), metrics(2, 3), metrics(3, 1), metrics(4, 2), "", "state DONE"];
  assert.deepEqual(medianThroughput(lines), { steps: 3, samplesPerSecond: 2 });
  assert.deepEqual(medianThroughput([metrics(1, 9), metrics(2, 1), metrics(3, 2)]), { steps: 2, samplesPerSecond: 1.5 });
  assert.throws(() => medianThroughput([metrics(1, 9)]), /no step after the first/);
});

test("--ranks takes a comma-separated list of process counts and nothing else", async () => {
  const r = await alignprop(["bench", "--ranks", "1,0"]);
  assert.equal(r.exitCode, 2, String(r.stderr));
  assert.match(String(r.stderr), /ranks.*a comma-separated list of process counts, e\.g\. 1,2/);
});
