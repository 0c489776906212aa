/**
 * Does a frozen dashboard slow training? Runs the real trainer twice — alone, then with a subscriber that connects,
 * subscribes to everything and never reads — and compares the median wall time between steps (the trainer's own event
 * timestamps: training, publishing and PNG encoding included), with images logged every step (the heaviest stream).
 * Used by `alignprop bench` and by the test that bounds the ratio.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Subscriber } from "zeromq";
import { prepareRun } from "../run/index.js";
import { spawnTrainer } from "./spawn.js";
import { median } from "../util/median.js";


export interface StallProbeOptions {
  steps?: number;
  /** Steps at the start left out (warm-up). */
  warmup?: number;
  batchSize?: number;
  /** Run-config fields (flag form) on top of the probe's: another model, fewer DDIM steps. */
  run?: Readonly<Record<string, string>>;
}

/** Median ms between consecutive steps after the warm-up, and how many steps the watching client saw. */
export async function medianStepWallMs(stall: boolean, o: StallProbeOptions = {}): Promise<{ ms: number; seen: number }> {
  const steps = o.steps ?? 120;
  const warmup = o.warmup ?? 20;
  const runsDir = mkdtempSync(join(tmpdir(), "alignprop-stall-"));
  try {
    const run = prepareRun(undefined, {
      // The embedded pipeline on a 1-step chain: short steps, so the probe measures the bridge rather than the model.
      model: "tiny-shapes",
      sample_num_steps: "1",
      runs_dir: runsDir,
      num_epochs: String(steps),
      train_batch_size: String(o.batchSize ?? 4),
      log_image_freq: "1",
      save_freq: String(steps + 1),
      ...o.run,
    });
    const trainer = await spawnTrainer({ configPath: run.configPath });
    const frozen = new Subscriber({ receiveHighWaterMark: 4 });
    if (stall) {
      frozen.subscribe();
      frozen.connect(trainer.ready.events);
    }
    const times: number[] = [];
    for await (const e of trainer.client.events()) {
      if (e.payload.case === "metrics" && e.payload.value.step >= warmup) times.push(e.timeUnixMs);
    }
    frozen.close();
    const exit = await trainer.exit;
    if (exit.exitCode !== 0) throw new Error(`probe trainer exited ${exit.exitCode}: ${exit.stderrTail}`);
    return { ms: median(times.slice(1).map((t, i) => t - times[i]!)), seen: times.length };
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}

/** Baseline before and after the stalled run, so a change in machine load is not read as a slowdown. */
export async function stalledSubscriberRatio(o: StallProbeOptions = {}) {
  const before = await medianStepWallMs(false, o);
  const stalled = await medianStepWallMs(true, o);
  const after = await medianStepWallMs(false, o);
  const baseline = Math.max(before.ms, after.ms);
  return { baseline_ms: baseline, stalled_ms: stalled.ms, ratio: stalled.ms / baseline, steps_seen_while_stalled: stalled.seen };
}
