/**
 * Runs a training job (from a run config, as the trainer builds it) outside the trainer process, for benchmarks:
 * step after step until a wall-clock budget or a step count is spent, recording every step's time and rewards.
 * A config with `engine: "torch"` runs the same loop in Python (run-torch-job.ts).
 */
import { loadRunConfig } from "../config/index.js";
import type { OverrideValue } from "../config/index.js";
import { createJob } from "../trainer/jobs.js";
import { runTorchJob } from "./run-torch-job.js";

export interface StepRecord {
  /** Samples generated so far, this step's included. */
  samples: number;
  /** Seconds since the first step began. */
  seconds: number;
  stepSeconds: number;
  rewardMean: number;
  /** The best single sample of the step. */
  rewardMax: number;
  loss: number;
}

export interface JobRun {
  description: string;
  steps: StepRecord[];
  /** Peak resident memory of this process so far, MiB. */
  peakRssMb: number;
}

export interface RunLimits {
  /** Stop after the step that crosses this many seconds. */
  seconds?: number;
  /** Stop after this many steps. */
  steps?: number;
  /** Never stop for `seconds` before this many steps: what is measured needs them, however slow the machine. */
  minSteps?: number;
  onStep?: (r: StepRecord) => void;
}

/** `file`: a run config JSON file under the overrides (e.g. configs/quickstart.json). */
export async function runJob(overrides: Record<string, OverrideValue>, limits: RunLimits, file?: string): Promise<JobRun> {
  const { config } = loadRunConfig({ overrides, ...(file === undefined ? {} : { file }) });
  if (config.engine === "torch") return runTorchJob(config, limits);
  const created = await createJob(config);
  const steps: StepRecord[] = [];
  try {
    const started = performance.now();
    let samples = 0;
    for (;;) {
      const t0 = performance.now();
      const result = created.job.step({ keepImages: false });
      const now = performance.now();
      samples += result.rewards.length;
      const record: StepRecord = {
        samples,
        seconds: (now - started) / 1000,
        stepSeconds: (now - t0) / 1000,
        rewardMean: result.rewards.reduce((a, b) => a + b, 0) / result.rewards.length,
        rewardMax: Math.max(...result.rewards),
        loss: result.loss,
      };
      steps.push(record);
      limits.onStep?.(record);
      if (limits.steps !== undefined && steps.length >= limits.steps) break;
      if (limits.seconds !== undefined && record.seconds >= limits.seconds && steps.length >= (limits.minSteps ?? 0)) break;
    }
  } finally {
    created.dispose();
  }
  return { description: created.description, steps, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}
