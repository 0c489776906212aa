/**
 * A dashboard that freezes (a subscriber that stops reading) must not slow training: the PUB high-water mark drops
 * its frames instead of blocking the trainer.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { stalledSubscriberRatio } from "../../src/bridge/stall-probe.js";
import { TINY_RUN } from "../helpers/tiny-model.js";

test("a subscriber that never reads does not slow training (median step time within 2x; the bench reports the ratio)", async () => {
  // The real AlignProp job on the tiny pipeline, steps 6–30 timed: 25 steps seen.
  const r = await stalledSubscriberRatio({ steps: 30, warmup: 6, run: TINY_RUN });
  process.stdout.write(`# stalled-subscriber step-time ratio ${r.ratio.toFixed(3)} (baseline ${r.baseline_ms.toFixed(2)} ms)\n`);
  assert.equal(r.steps_seen_while_stalled, 25, "the watching client still saw every step");
  assert.ok(r.ratio < 2, `median step ${r.stalled_ms} ms with a stalled subscriber vs ${r.baseline_ms} ms`);
});
