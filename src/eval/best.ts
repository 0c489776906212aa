/**
 * `best_metric`: which evaluation's weights are the run's best. An evaluation qualifies when it reports the metric
 * (finite) and, with `best_min_fidelity`, a fidelity at or above the floor; it becomes the best when its value beats
 * the best so far in the metric's direction (MONITOR_VALUES: drift lower, the others higher) — ties keep the earlier.
 */
import { MONITOR_VALUES, type MonitorValue } from "./monitor-names.js";

export interface BestRule {
  metric: MonitorValue;
  /** null: no floor. */
  minFidelity: number | null;
}

/** What `best/best.json` holds. */
export interface BestEval {
  step: number;
  metric: MonitorValue;
  value: number;
  monitors: Record<string, number>;
}

export class BestTracker {
  constructor(
    private readonly rule: BestRule,
    private current: BestEval | undefined = undefined,
  ) {}

  get best(): BestEval | undefined {
    return this.current;
  }

  /** Records the evaluation after `step` steps; true when it is the new best. */
  consider(step: number, monitors: Readonly<Record<string, number>>): boolean {
    const { metric, minFidelity } = this.rule;
    const value = monitors[metric];
    if (value === undefined || !Number.isFinite(value)) return false;
    if (minFidelity !== null && !((monitors.fidelity ?? -Infinity) >= minFidelity)) return false;
    const better = this.current === undefined || (MONITOR_VALUES[metric] === "higher" ? value > this.current.value : value < this.current.value);
    if (better) this.current = { step, metric, value, monitors: { ...monitors } };
    return better;
  }
}
