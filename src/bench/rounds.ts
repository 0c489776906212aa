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

type Json = Record<string, unknown>;

/** One side of a round: its report (a bench task's merged JSON) and how to run its UNet step once more. */
export interface RoundSide {
  report: Json;
  run: () => Promise<Json>;
}

/**
 * `rounds` more rounds of the UNet step after the first, each side in the order given (sides whose first round did
 * not time the step are left out); each side's `unet_step` becomes the merge of all its rounds, its
 * `unet_peak_rss_mb` the largest. A round in which a side fails is left out on every side, so round i is the same
 * round everywhere, the failure recorded in that side's `unet_round_errors`.
 */
export async function moreUNetRounds(rounds: number, sides: readonly RoundSide[]): Promise<void> {
  const timed = sides.filter(({ report }) => report.unet_step !== undefined);
  const runs = timed.map(({ report }) => [report.unet_step as Timing]);
  for (let round = 0; round < rounds; round++) {
    const results: Json[] = [];
    for (const { run } of timed) results.push(await run());
    const failed = results.flatMap((r, i) => (r.unet_step === undefined ? [i] : []));
    for (const i of failed) {
      const report = timed[i]!.report;
      const r = results[i]!;
      report.unet_round_errors = [...((report.unet_round_errors as unknown[] | undefined) ?? []), r.timed_out ?? r.failed ?? r.unavailable];
    }
    if (failed.length > 0) continue;
    results.forEach((r, i) => {
      const report = timed[i]!.report;
      runs[i]!.push(r.unet_step as Timing);
      report.unet_peak_rss_mb = Math.max(Number(report.unet_peak_rss_mb ?? 0), Number(r.peak_rss_mb ?? 0));
    });
  }
  timed.forEach(({ report }, i) => (report.unet_step = mergeRounds(runs[i]!)));
}
