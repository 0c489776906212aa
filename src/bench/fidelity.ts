/**
 * Faithfulness beside the reward (issue 16): a run's prompt fidelity over its eval passes (src/eval/, the `fidelity`
 * monitor value: for tiny-shapes the share of eval samples showing the prompted colour), so a reward rise is
 * reported together with what it cost in faithfulness.
 */
import type { EvalRecord } from "./run-job.js";

/** The monitor value reported as the run's fidelity. */
export const FIDELITY = "fidelity";

export interface FidelityPoint {
  step: number;
  samples: number;
  seconds: number;
  fidelity: number;
}

/** Fidelity at each eval pass that measured it, in step order. */
export function fidelityCurve(evals: readonly EvalRecord[]): FidelityPoint[] {
  return evals
    .filter((e) => Number.isFinite(e.monitors[FIDELITY]))
    .map((e) => ({ step: e.step, samples: e.samples, seconds: e.seconds, fidelity: e.monitors[FIDELITY]! }));
}

export interface FidelityChange {
  /** At the first eval pass (step 0: the base model); null when the run never evaluated. */
  initialFidelity: number | null;
  /** At the last eval pass (after the last step). */
  finalFidelity: number | null;
  /** Step of the last eval pass; null when none. */
  fidelityStep: number | null;
}

export function fidelityChange(evals: readonly EvalRecord[]): FidelityChange {
  const curve = fidelityCurve(evals);
  const first = curve[0];
  const last = curve.at(-1);
  return { initialFidelity: first?.fidelity ?? null, finalFidelity: last?.fidelity ?? null, fidelityStep: last?.step ?? null };
}

/** A fidelity for people: three decimals, or "not evaluated". */
export const formatFidelity = (v: number | null): string => (v === null ? "not evaluated" : v.toFixed(3));
