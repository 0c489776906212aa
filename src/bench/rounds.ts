/**
 * One measure from several rounds. `alignprop bench --rounds n` times the tiny-UNet step n times in processes that
 * alternate TF.js and PyTorch, so a change in the machine's load between rounds moves both sides of a round's ratio
 * alike (on a shared 2-core host PyTorch's figure alone moved 10–15% between back-to-back benches).
 */

import type { Timing } from "../tf/bench/timing.js";
import { median } from "../util/median.js";

export interface MergedTiming extends Timing {
  /** Each round's median, in the order the rounds ran. */
  round_ms: number[];
}

/** The rounds as one timing: the median of their medians, the fastest run of all, every run counted; other fields from the first. */
export function mergeRounds<T extends Timing>(rounds: readonly T[]): T & MergedTiming {
  if (rounds.length === 0) throw new Error("mergeRounds: no rounds to merge");
  const round_ms = rounds.map((r) => r.ms);
  return {
    ...rounds[0]!,
    ms: median(round_ms),
    min_ms: Math.min(...rounds.map((r) => r.min_ms)),
    runs: rounds.reduce((n, r) => n + r.runs, 0),
    round_ms,
  };
}

/** a / b round by round, for the rounds both sides ran; null where either side has no rounds. */
export function roundRatios(a: readonly number[] | undefined, b: readonly number[] | undefined): number[] | null {
  if (!a?.length || !b?.length) return null;
  return a.slice(0, b.length).map((x, i) => x / b[i]!);
}
