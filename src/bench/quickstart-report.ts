/**
 * What `alignprop bench --quickstart` reports: how much of its reward gap the main job closed (reward-rise.ts) and
 * the prompt fidelity it ended at (fidelity.ts), together, as JSON fields and as one line for a person.
 */
import { fidelityChange, formatFidelity, type FidelityChange } from "./fidelity.js";
import { rewardRise, type RewardRise } from "./reward-rise.js";
import type { JobRun } from "./run-job.js";

export interface QuickstartReport extends RewardRise, FidelityChange {
  /** Seconds the eval passes took, besides the training `seconds`. */
  evalSeconds: number;
}

export function quickstartReport(run: JobRun): QuickstartReport {
  return { ...rewardRise(run.steps), ...fidelityChange(run.evals), evalSeconds: run.evalSeconds };
}


export function quickstartText(r: QuickstartReport): string {
  return (
    `reward gap closed ${(100 * r.gapClosed).toFixed(0)}% (reward ${r.initial.toFixed(3)} → ${r.final.toFixed(3)}, best sample ${r.best.toFixed(3)}) ` +
    `in ${r.steps} steps, ${r.seconds.toFixed(0)} s of training; prompt fidelity ${formatFidelity(r.initialFidelity)} → ${formatFidelity(r.finalFidelity)}` +
    (r.fidelityStep === null ? "" : ` (eval at step ${r.fidelityStep}, ${r.evalSeconds.toFixed(0)} s of eval)`)
  );
}
