/**
 * The quickstart's curve on the clock a user watches (issue 18): where a run stood 1, 3 and 10 minutes after it
 * started, start-up and eval passes included — the reward gap closed by then (reward-rise.ts, over the steps done)
 * and the fidelity of the last eval pass done. A run that ended earlier stands at its end for the later marks.
 */
import { FIDELITY } from "./fidelity.js";
import { rewardRise, RISE_MIN_STEPS } from "./reward-rise.js";
import type { JobRun } from "./run-job.js";

/** The marks reported, in seconds of wall clock. */
export const QUICKSTART_MARKS = [60, 180, 600] as const;

export interface QuickstartMark {
  /** Seconds of wall clock since the run started (start-up included). */
  mark: number;
  /** Steps done by then. */
  steps: number;
  /** When the last of those steps ended (wall clock; start-up alone when none had). */
  wallSeconds: number;
  /** The reward gap closed over those steps; null before RISE_MIN_STEPS steps. */
  gapClosed: number | null;
  /** Fidelity at the last eval pass done by then, and its step; null when none had. */
  fidelity: number | null;
  fidelityStep: number | null;
  /** The run had ended (all its steps and eval passes) before the mark. */
  ended: boolean;
}

/**
 * Wall clock of each step's end and each eval pass's end: start-up, then the steps' training seconds, plus every
 * pass run before. A pass after step n runs before step n + 1 (step 0's before the first step).
 */
export function wallClock(run: JobRun): { steps: number[]; evals: number[] } {
  const passesUpTo = (step: number) => run.evals.filter((e) => e.step <= step).reduce((a, e) => a + e.passSeconds, 0);
  const trained = (step: number) => (step === 0 ? 0 : run.steps[step - 1]!.seconds);
  return {
    steps: run.steps.map((s, i) => run.startupSeconds + s.seconds + passesUpTo(i)),
    evals: run.evals.map((e) => run.startupSeconds + trained(e.step) + passesUpTo(e.step)),
  };
}

/**
 * Where the run stood at each mark. A mark past the run's last recorded moment that the run did not end before (cut
 * by a time budget) is left out: nothing is known there.
 */
export function quickstartMarks(run: JobRun, ended: boolean, marks: readonly number[] = QUICKSTART_MARKS): QuickstartMark[] {
  const clock = wallClock(run);
  const endsAt = Math.max(clock.steps.at(-1) ?? 0, clock.evals.at(-1) ?? 0);
  return marks
    .filter((mark) => ended || mark <= endsAt)
    .map((mark) => {
      const steps = clock.steps.filter((t) => t <= mark).length;
      const done = run.evals.filter((e, i) => clock.evals[i]! <= mark && Number.isFinite(e.monitors[FIDELITY])).at(-1);
      return {
        mark,
        steps,
        wallSeconds: steps === 0 ? run.startupSeconds : clock.steps[steps - 1]!,
        gapClosed: steps >= RISE_MIN_STEPS ? rewardRise(run.steps.slice(0, steps)).gapClosed : null,
        fidelity: done?.monitors[FIDELITY] ?? null,
        fidelityStep: done?.step ?? null,
        ended: ended && mark >= endsAt,
      };
    });
}
