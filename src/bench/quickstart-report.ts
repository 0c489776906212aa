/**
 * What `alignprop bench --quickstart` reports: how much of its reward gap the main job closed (reward-rise.ts) and
 * the prompt fidelity it ended at (fidelity.ts), together, and where it stood 1, 3 and 10 minutes in
 * (quickstart-marks.ts); as JSON fields and as lines for a person.
 */
import { fidelityChange, formatFidelity, type FidelityChange } from "./fidelity.js";
import { quickstartMarks, type QuickstartMark } from "./quickstart-marks.js";
import { rewardRise, type RewardRise } from "./reward-rise.js";
import type { JobRun } from "./run-job.js";

export interface QuickstartReport extends RewardRise, FidelityChange {
  /** Seconds the eval passes took, besides the training `seconds`. */
  evalSeconds: number;
  /** Seconds before the first step: loading the pipeline and reward, building the job. */
  startupSeconds: number;
  marks: QuickstartMark[];
}

/** `ended`: the run did all its steps (num_epochs), rather than being cut by a time budget. */
export function quickstartReport(run: JobRun, ended: boolean): QuickstartReport {
  return {
    ...rewardRise(run.steps),
    ...fidelityChange(run.evals),
    evalSeconds: run.evalSeconds,
    startupSeconds: run.startupSeconds,
    marks: quickstartMarks(run, ended),
  };
}

const percent = (v: number | null) => (v === null ? "—" : `${(100 * v).toFixed(0)}%`);

/** One line per mark: "at 3 min: reward gap closed 52% after 300 steps, prompt fidelity 0.833 (eval at step 280)". */
function markText(m: QuickstartMark): string {
  const fidelity = m.fidelity === null ? "not evaluated yet" : `${formatFidelity(m.fidelity)} (eval at step ${m.fidelityStep})`;
  const end = m.ended ? ` (the run ended at ${m.wallSeconds.toFixed(0)} s)` : "";
  return `at ${m.mark / 60} min: reward gap closed ${percent(m.gapClosed)} after ${m.steps} steps, prompt fidelity ${fidelity}${end}`;
}

export function quickstartText(r: QuickstartReport): string {
  return (
    `reward gap closed ${percent(r.gapClosed)} (reward ${r.initial.toFixed(3)} → ${r.final.toFixed(3)}, best sample ${r.best.toFixed(3)}) ` +
    `in ${r.steps} steps, ${r.seconds.toFixed(0)} s of training; prompt fidelity ${formatFidelity(r.initialFidelity)} → ${formatFidelity(r.finalFidelity)}` +
    (r.fidelityStep === null ? "" : ` (eval at step ${r.fidelityStep}, ${r.evalSeconds.toFixed(0)} s of eval)`) +
    `; ${r.startupSeconds.toFixed(0)} s of start-up` +
    r.marks.map((m) => "\n" + markText(m)).join("")
  );
}
