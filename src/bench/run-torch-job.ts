/**
 * The torch engine's side of `runJob`: the same run config, resolved and checked here (the TS CLI stays the one
 * validator), trained for a number of steps by `python -m alignprop_torch.run_steps` in the project's Python — the
 * job the torch trainer builds, outside the trainer process. Its records are run-job.ts's, timed in Python.
 */
import { execa } from "execa";
import { z } from "zod";
import { loadRunConfig, type OverrideValue } from "../config/index.js";
import { torchModule } from "../python/torch-trainer.js";
import type { JobRun, StepRecord } from "./run-job.js";

export const RUN_STEPS_MODULE = "alignprop_torch.run_steps";

const StepRecordSchema = z.object({
  samples: z.number().int(),
  seconds: z.number(),
  stepSeconds: z.number(),
  rewardMean: z.number(),
  rewardMax: z.number(),
  loss: z.number(),
}) satisfies z.ZodType<StepRecord>;

const TorchRunSchema = z.object({
  description: z.string(),
  steps: z.array(StepRecordSchema).min(1),
  peakRssMb: z.number(),
  torch: z.object({ version: z.string(), threads: z.number().int(), device: z.string() }),
});

export type TorchJobRun = JobRun & z.infer<typeof TorchRunSchema>;

export interface TorchRunLimits {
  steps: number;
  /** torch's intra-op threads; torch's own default when absent. */
  threads?: number;
  /** The process is stopped after this many seconds and the run fails, naming the limit. */
  timeoutSeconds?: number;
}

/** `file`: a run config JSON file under the overrides (e.g. configs/quickstart.json), as for `runJob`. */
export async function runTorchJob(overrides: Record<string, OverrideValue>, limits: TorchRunLimits, file?: string): Promise<TorchJobRun> {
  const { config } = loadRunConfig({ overrides, ...(file === undefined ? {} : { file }) });
  const { command, env } = torchModule(RUN_STEPS_MODULE);
  const args = [...command.slice(1), "--steps", String(limits.steps), ...(limits.threads === undefined ? [] : ["--threads", String(limits.threads)])];
  const r = await execa(command[0]!, args, {
    input: JSON.stringify(config),
    env,
    reject: false,
    ...(limits.timeoutSeconds === undefined ? {} : { timeout: limits.timeoutSeconds * 1000 }),
  });
  const what = `python -m ${RUN_STEPS_MODULE} (${limits.steps} steps)`;
  if (r.timedOut) throw new Error(`${what} still running after ${limits.timeoutSeconds} s`);
  if (r.exitCode !== 0) throw new Error(`${what} exited with ${r.exitCode ?? r.signal}: ${String(r.stderr).trim().split("\n").slice(-5).join("\n")}`);
  const line = String(r.stdout).trim().split("\n").at(-1) ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`${what} printed no JSON result; its last line: ${line.slice(0, 300)}`);
  }
  const result = TorchRunSchema.safeParse(parsed);
  if (!result.success) throw new Error(`${what} printed an unexpected result: ${result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return result.data;
}
