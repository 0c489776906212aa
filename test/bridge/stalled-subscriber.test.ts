/**
 * A dashboard that freezes (a subscriber that stops reading) must not slow training: the PUB high-water mark drops
 * its frames instead of blocking the trainer.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Subscriber } from "zeromq";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Median wall time between consecutive steps (the trainer's own event timestamps: training, publishing, PNGs and all)
 * over steps 21..120 of a run that logs images every step (the heaviest event stream).
 */
async function medianStepSeconds(stall: boolean): Promise<number> {
  const run = runs.prepare({ num_epochs: "120", train_batch_size: "16", log_image_freq: "1" });
  const trainer = await runs.spawn({ configPath: run.configPath });
  const frozen = new Subscriber({ receiveHighWaterMark: 4 });
  if (stall) {
    frozen.subscribe();
    frozen.connect(trainer.ready.events); // connected, subscribed to everything, never reads
  }
  const tap = new EventTap(trainer.client);
  await tap.ended;
  frozen.close();
  assert.equal((await trainer.exit).exitCode, 0);
  const times = tap.events.flatMap((e) => (e.payload.case === "metrics" && e.payload.value.step >= 20 ? [e.timeUnixMs] : []));
  assert.equal(times.length, 101, "the watching client still saw every step");
  return median(times.slice(1).map((t, i) => (t - times[i]!) / 1000));
}

test("a subscriber that never reads does not slow training (median step time within 2x; the bench reports the ratio)", async () => {
  // Baseline before and after, so a change in machine load during the test does not read as a slowdown.
  const before = await medianStepSeconds(false);
  const stalled = await medianStepSeconds(true);
  const baseline = Math.max(before, await medianStepSeconds(false));
  const ratio = stalled / baseline;
  process.stdout.write(`# stalled-subscriber step-time ratio ${ratio.toFixed(3)} (baseline ${(baseline * 1000).toFixed(2)} ms)\n`);
  assert.ok(ratio < 2, `median step ${(stalled * 1000).toFixed(2)} ms with a stalled subscriber vs ${(baseline * 1000).toFixed(2)} ms`);
});
