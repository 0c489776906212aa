/**
 * runJob for `engine: "torch"`: the same loop in `python -m alignprop_torch.bench_job` with the project's Python — the
 * job the torch trainer builds, outside the trainer process — given the config resolved and checked here (the TS CLI
 * stays the one validator) on stdin. Each JSON line it prints is a step's record (run-job.ts's, timed in Python), the
 * last the run's description, peak RSS and the torch version, threads and device it ran with. Serves
 * `bench --compare/--quickstart --engine torch` (through runJob) and bench's engines section.
 */
import { execa } from "execa";
import { createInterface } from "node:readline";
import { z } from "zod";
import type { RunConfig } from "../config/index.js";
import { pythonModule } from "../python/torch-trainer.js";
import { evalDefaults } from "../run/prepare.js";
import type { EvalRecord, JobRun, RunLimits, StepRecord } from "./run-job.js";

export const TORCH_BENCH_MODULE = "alignprop_torch.bench_job";

const StepRecordSchema = z.object({
  samples: z.number().int(),
  seconds: z.number(),
  stepSeconds: z.number(),
  rewardMean: z.number(),
  rewardMax: z.number(),
  loss: z.number(),
}) satisfies z.ZodType<StepRecord>;

const DoneSchema = z.object({
  description: z.string(),
  peakRssMb: z.number(),
  torch: z.object({ version: z.string(), threads: z.number().int(), device: z.string() }),
});

const EvalRecordSchema = z.object({
  step: z.number().int(),
  samples: z.number().int(),
  seconds: z.number(),
  monitors: z.record(z.string(), z.number()),
  passSeconds: z.number(),
}) satisfies z.ZodType<EvalRecord>;

const LineSchema = z.union([z.object({ step: StepRecordSchema }), z.object({ eval: EvalRecordSchema }), z.object({ done: DoneSchema })]);

export type TorchJobRun = JobRun & Pick<z.infer<typeof DoneSchema>, "torch">;

export interface TorchRunLimits extends RunLimits {
  /** torch's intra-op threads; torch's own default when absent. */
  threads?: number;
  /** The process is stopped after this many seconds and the run fails, naming the limit. */
  timeoutSeconds?: number;
}

export async function runTorchJob(config: RunConfig, limits: TorchRunLimits): Promise<TorchJobRun> {
  const { command, env } = pythonModule(TORCH_BENCH_MODULE);
  const flag = (name: string, value: number | undefined) => (value === undefined ? [] : [`--${name}`, String(value)]);
  const args = [
    ...flag("seconds", limits.seconds),
    ...flag("steps", limits.steps),
    ...flag("min-steps", limits.minSteps),
    ...flag("threads", limits.threads),
    ...(limits.evaluate ? ["--evaluate"] : []),
  ];
  const [python, ...rest] = command;
  const spawned = performance.now();
  let startupSeconds = 0;
  const child = execa(python!, [...rest, ...args], {
    input: JSON.stringify({ ...config, ...evalDefaults(config) }), // the eval set spelled out, as config.json does
    env,
    reject: false,
    stderr: "pipe",
    ...(limits.timeoutSeconds === undefined ? {} : { timeout: limits.timeoutSeconds * 1000 }),
  });
  const steps: StepRecord[] = [];
  const evals: EvalRecord[] = [];
  let done: z.infer<typeof DoneSchema> | undefined;
  for await (const line of createInterface({ input: child.stdout! })) {
    if (!line.startsWith("{")) continue;
    const parsed = LineSchema.safeParse(JSON.parse(line));
    if (!parsed.success) {
      child.kill();
      throw new Error(`${TORCH_BENCH_MODULE} printed an unexpected line (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}): ${line.slice(0, 300)}`);
    }
    if ("step" in parsed.data) {
      // Python starting, importing torch and building the job: until its first step began.
      if (steps.length === 0) startupSeconds = (performance.now() - spawned) / 1000 - parsed.data.step.seconds;
      steps.push(parsed.data.step);
      limits.onStep?.(parsed.data.step);
    } else if ("eval" in parsed.data) {
      evals.push(parsed.data.eval);
      limits.onEval?.(parsed.data.eval);
    } else done = parsed.data.done;
  }
  const result = await child;
  if (result.timedOut) throw new Error(`${TORCH_BENCH_MODULE} still running after ${limits.timeoutSeconds} s (${steps.length} steps done)`);
  if (result.exitCode !== 0 || done === undefined || steps.length === 0) {
    const stderr = String(result.stderr).trim().split("\n").slice(-5).join("\n");
    throw new Error(`${TORCH_BENCH_MODULE} ended with exit code ${result.exitCode ?? result.signal} after ${steps.length} steps: ${stderr}`);
  }
  const evalSeconds = evals.reduce((sum, e) => sum + e.passSeconds, 0);
  return { description: done.description, steps, evals, evalSeconds, startupSeconds, peakRssMb: done.peakRssMb, torch: done.torch };
}
