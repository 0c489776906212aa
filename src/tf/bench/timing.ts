/** How the bench times one piece of work, the same rule in TF.js and in scripts/bench/torch_bench.py. */
import { median } from "../../util/median.js";

export interface Timing {
  /** Median wall time of the timed runs, ms. */
  ms: number;
  /** Fastest timed run, ms: on a shared machine the figure other processes disturb least. */
  min_ms: number;
  /** Runs timed. */
  runs: number;
}

/**
 * Runs `work` once (building sessions, warming caches); if that took longer than `slowMs` it is the measurement
 * (slow backends are not run twice), otherwise `repeats` more runs are timed and their median and fastest reported.
 */
export function time(work: () => void, repeats: number, slowMs = 1000): Timing {
  let start = performance.now();
  work();
  const first = performance.now() - start;
  if (first > slowMs) return { ms: first, min_ms: first, runs: 1 };
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    start = performance.now();
    work();
    times.push(performance.now() - start);
  }
  return { ms: median(times), min_ms: Math.min(...times), runs: repeats };
}

/** GFLOP/s of `flops` done in `ms`. */
export const gflops = (flops: number, ms: number): number => flops / ms / 1e6;
