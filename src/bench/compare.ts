/**
 * AlignProp against DDPO (the comparison of AlignProp's paper, Fig. 4/5): both algorithms fine-tune the same
 * pipeline's LoRA for the same reward, prompts and seed, each for the same wall-clock budget; the report gives reward
 * mean against generated samples and against seconds for each, and how many samples AlignProp needed to reach the
 * reward DDPO ended at. Each run also evaluates its fixed eval set (src/eval/), so the claim is made at matched
 * faithfulness: each algorithm's fidelity curve, and AlignProp's fidelity when it reached DDPO's final reward.
 */
import type { OverrideValue } from "../config/index.js";
import { fidelityChange, fidelityCurve, type FidelityChange, type FidelityPoint } from "./fidelity.js";
import { runJob, type JobRun, type StepRecord } from "./run-job.js";

export interface CompareOptions {
  /** Seconds each algorithm trains. */
  seconds: number;
  /** Fields both runs share (model, reward, prompts, seed, sample_num_steps, …). */
  shared: Record<string, OverrideValue>;
  /** Fields of each algorithm's run on top of `shared`. */
  alignprop: Record<string, OverrideValue>;
  ddpo: Record<string, OverrideValue>;
  /** Run each one's eval set as it trains (its fidelity curve); the passes' time is not counted in `seconds`. */
  evaluate: boolean;
  onStep?: (algorithm: "alignprop" | "ddpo", r: StepRecord) => void;
}

export interface AlgorithmResult extends FidelityChange {
  description: string;
  steps: StepRecord[];
  samples: number;
  seconds: number;
  samplesPerSecond: number;
  /** Mean reward of the first and of the last `window` samples. */
  initialReward: number;
  finalReward: number;
  /** Fidelity at each eval pass (empty when the run did not evaluate). */
  fidelity: FidelityPoint[];
}

export interface Comparison {
  alignprop: AlgorithmResult;
  ddpo: AlgorithmResult;
  /** Samples AlignProp generated before its running mean first reached DDPO's final reward; null if it never did. */
  alignpropSamplesToDdpoFinal: number | null;
  /** DDPO's samples / alignpropSamplesToDdpoFinal: how many times fewer samples AlignProp needed. */
  sampleRatio: number | null;
  /**
   * AlignProp's fidelity at its first eval pass once it had generated alignpropSamplesToDdpoFinal samples, to set
   * against DDPO's finalFidelity; null when AlignProp never reached DDPO's final reward or no eval pass came after.
   */
  alignpropFidelityAtDdpoFinal: number | null;
  /** Samples each running mean and final mean is taken over. */
  window: number;
}

/** Per-step rewards expanded to per-sample values (a step's mean for each of its samples). */
function perSample(steps: readonly StepRecord[]): number[] {
  const out: number[] = [];
  let before = 0;
  for (const s of steps) {
    for (let i = before; i < s.samples; i++) out.push(s.rewardMean);
    before = s.samples;
  }
  return out;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function summarise(run: JobRun, window: number): AlgorithmResult {
  const rewards = perSample(run.steps);
  const last = run.steps.at(-1)!;
  return {
    description: run.description,
    steps: run.steps,
    samples: last.samples,
    seconds: last.seconds,
    samplesPerSecond: last.samples / last.seconds,
    initialReward: mean(rewards.slice(0, window)),
    finalReward: mean(rewards.slice(-window)),
    fidelity: fidelityCurve(run.evals),
    ...fidelityChange(run.evals),
  };
}

/** The first sample count at which the running mean over `window` samples reaches `target`; null if never. */
export function samplesToReach(steps: readonly StepRecord[], target: number, window: number): number | null {
  const rewards = perSample(steps);
  let sum = 0;
  for (let i = 0; i < rewards.length; i++) {
    sum += rewards[i]!;
    if (i >= window) sum -= rewards[i - window]!;
    const n = Math.min(i + 1, window);
    if (i + 1 >= window && sum / n >= target) return i + 1;
  }
  return null;
}

export function compareRuns(alignprop: JobRun, ddpo: JobRun, window: number): Comparison {
  const a = summarise(alignprop, window);
  const d = summarise(ddpo, window);
  const reach = samplesToReach(alignprop.steps, d.finalReward, window);
  const atReach = reach === null ? undefined : a.fidelity.find((p) => p.samples >= reach);
  return {
    alignprop: a,
    ddpo: d,
    alignpropSamplesToDdpoFinal: reach,
    sampleRatio: reach === null ? null : d.samples / reach,
    alignpropFidelityAtDdpoFinal: atReach?.fidelity ?? null,
    window,
  };
}

export async function compareAlgorithms(o: CompareOptions, window: number): Promise<Comparison> {
  const alignprop = await runJob({ ...o.shared, ...o.alignprop, algorithm: "alignprop" }, { seconds: o.seconds, evaluate: o.evaluate, onStep: (r) => o.onStep?.("alignprop", r) });
  const ddpo = await runJob({ ...o.shared, ...o.ddpo, algorithm: "ddpo" }, { seconds: o.seconds, evaluate: o.evaluate, onStep: (r) => o.onStep?.("ddpo", r) });
  return compareRuns(alignprop, ddpo, window);
}
