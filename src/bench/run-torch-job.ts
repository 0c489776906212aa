/**
 * runJob for `engine: "torch"`: the same loop in `python -m alignprop_torch.bench_job` with the project's Python,
 * given the resolved config on stdin; each JSON line it prints is a step's record, the last its description and
 * peak RSS.
 */
import { execa } from "execa";
import { createInterface } from "node:readline";
import type { RunConfig } from "../config/index.js";
import { pythonModule } from "../python/torch-trainer.js";
import type { JobRun, RunLimits, StepRecord } from "./run-job.js";

export const TORCH_BENCH_MODULE = "alignprop_torch.bench_job";

interface BenchLine {
  step?: StepRecord;
  done?: { description: string; peakRssMb: number };
}

export async function runTorchJob(config: RunConfig, limits: RunLimits): Promise<JobRun> {
  const { command, env } = pythonModule(TORCH_BENCH_MODULE);
  const args = [
    ...(limits.seconds === undefined ? [] : ["--seconds", String(limits.seconds)]),
    ...(limits.steps === undefined ? [] : ["--steps", String(limits.steps)]),
    ...(limits.minSteps === undefined ? [] : ["--min-steps", String(limits.minSteps)]),
  ];
  const [python, ...rest] = command;
  const child = execa(python!, [...rest, ...args], { input: JSON.stringify(config), env, reject: false, stderr: "pipe" });
  const steps: StepRecord[] = [];
  let done: BenchLine["done"];
  for await (const line of createInterface({ input: child.stdout! })) {
    if (!line.startsWith("{")) continue;
    const message = JSON.parse(line) as BenchLine;
    if (message.step) {
      steps.push(message.step);
      limits.onStep?.(message.step);
    }
    done = message.done ?? done;
  }
  const result = await child;
  if (result.exitCode !== 0 || done === undefined || steps.length === 0) {
    const stderr = String(result.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${TORCH_BENCH_MODULE} ended with exit code ${result.exitCode} after ${steps.length} steps: ${stderr}`);
  }
  // The torch bench job does not run the eval set (yet): no fidelity to report.
  return { description: done.description, steps, evals: [], evalSeconds: 0, peakRssMb: done.peakRssMb };
}
