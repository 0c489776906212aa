import assert from "node:assert/strict";
import { mock, test } from "node:test";
import type { Progress } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { ProgressThrottle, type ProgressUpdate } from "../../src/trainer/progress.js";

const bytes = (done: number, itemsDone = 0): ProgressUpdate => ({ phase: "download", item: "unet", done, total: 1000, unit: "bytes", itemsDone, itemsTotal: 2 });

test("progress is published at most once per interval, with the rate since the phase began, and always when complete", () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    let now = 0;
    const sent: Progress[] = [];
    const throttle = new ProgressThrottle((p) => sent.push(p), 200, () => now);
    throttle.report(bytes(0));
    now = 100;
    throttle.report(bytes(100));
    now = 150;
    throttle.report(bytes(300));
    assert.deepEqual(sent.map((p) => p.done), [0], "updates inside the interval wait");
    now = 200;
    mock.timers.tick(200);
    assert.deepEqual(sent.map((p) => p.done), [0, 300], "the latest held-back update goes out when the interval ends (a stalled download still shows it)");
    assert.equal(sent[1]!.rate, 1500, "300 bytes in 0.2 s");
    now = 250;
    throttle.report(bytes(1000, 2));
    assert.deepEqual(sent.map((p) => p.done), [0, 300, 1000], "the completing update is never held back");
    assert.equal(sent[2]!.itemsDone, 2);
    mock.timers.tick(1000);
    assert.equal(sent.length, 3, "nothing is left to send");
  } finally {
    mock.timers.reset();
  }
});

test("each phase has its own interval and rate", () => {
  let now = 0;
  const sent: Progress[] = [];
  const throttle = new ProgressThrottle((p) => sent.push(p), 200, () => now);
  throttle.report(bytes(10));
  now = 50;
  throttle.report({ phase: "load", item: "vae", done: 1, total: 4, unit: "components", itemsDone: 1, itemsTotal: 4 });
  assert.deepEqual(sent.map((p) => p.phase), ["download", "load"]);
  assert.equal(sent[1]!.rate, 0, "no rate at a phase's first report");
});
