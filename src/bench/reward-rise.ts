/**
 * How far a run's reward climbed: from its first steps' mean towards the best single sample it ever produced. The
 * quickstart's promise is `gapClosed` ≥ 0.5 within 10 minutes on 2 cores (`alignprop bench --quickstart`).
 */
import type { StepRecord } from "./run-job.js";

export interface RewardRise {
  /** Mean of the first `edge` steps' reward means. */
  initial: number;
  /** Mean of the last `edge` steps' reward means. */
  final: number;
  /** The best single sample of the run. */
  best: number;
  /** (final − initial) / (best − initial). */
  gapClosed: number;
  steps: number;
  samples: number;
  seconds: number;
}

/** Steps averaged at each end of the run. */
export const RISE_EDGE = 5;
/** The fewest steps a reward rise is measured over. */
export const RISE_MIN_STEPS = 2 * RISE_EDGE;

export function rewardRise(steps: readonly StepRecord[], edge = RISE_EDGE): RewardRise {
  if (steps.length < 2 * edge) throw new Error(`reward rise needs at least ${2 * edge} steps; the run made ${steps.length}`);
  const mean = (xs: readonly StepRecord[]) => xs.reduce((a, s) => a + s.rewardMean, 0) / xs.length;
  const initial = mean(steps.slice(0, edge));
  const final = mean(steps.slice(-edge));
  const best = Math.max(...steps.map((s) => s.rewardMax));
  const last = steps.at(-1)!;
  return { initial, final, best, gapClosed: (final - initial) / (best - initial), steps: steps.length, samples: last.samples, seconds: last.seconds };
}

export interface RewardTrend {
  /** The least-squares line's slope through the steps' reward means, per step. */
  slope: number;
  /** slope × (steps − 1): how much the line rose over the run. */
  rise: number;
  /** slope / its standard error: above ~2 the rise is unlikely to be the steps' noise. */
  t: number;
}

/** The linear trend of the steps' reward means: less noisy than two end windows, as every step counts. */
export function rewardTrend(steps: readonly StepRecord[]): RewardTrend {
  const n = steps.length;
  if (n < 3) throw new Error(`a reward trend needs at least 3 steps; the run made ${n}`);
  const y = steps.map((s) => s.rewardMean);
  const xMean = (n - 1) / 2;
  const yMean = y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  y.forEach((v, i) => {
    sxx += (i - xMean) ** 2;
    sxy += (i - xMean) * (v - yMean);
  });
  const slope = sxy / sxx;
  const residuals = y.reduce((a, v, i) => a + (v - yMean - slope * (i - xMean)) ** 2, 0);
  const standardError = Math.sqrt(residuals / (n - 2) / sxx);
  return { slope, rise: slope * (n - 1), t: slope / standardError };
}
