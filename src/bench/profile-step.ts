/**
 * `alignprop bench --profile`: one training step of a run config (the quickstart's, on tiny-shapes) profiled on the
 * TF.js backend a run would pick, after warm-up steps (the first step builds ORT sessions and grows wasm memory) and
 * one unprofiled step, whose time says what profiling itself costs.
 */
import { loadRunConfig, type OverrideValue } from "../config/index.js";
import { initBackend } from "../tf/backend.js";
import { createJob } from "../trainer/jobs.js";
import { writeFileAtomic } from "../io/atomic.js";
import { profile, type Profile } from "./profile.js";
import { formatProfile } from "./profile-table.js";
import { loadAverage, machine } from "./host.js";

export interface StepProfile {
  run: string;
  /** The TF.js backend as `initBackend("auto")` chose it. */
  backend: string;
  /** The same step's time without profiling, ms. */
  unprofiled_step_ms: number;
  /**
   * Kernels dispatched by each profiled step: equal for a config without random truncation, except that gradient
   * clipping adds one multiply per LoRA tensor in a step whose norm exceeds train_max_grad_norm.
   */
  ops_per_step: number[];
  /** The last profiled step. */
  profile: Profile;
}

export interface ProfileOptions {
  file?: string;
  overrides?: Record<string, OverrideValue>;
  warmup?: number;
  /** Profiled steps (≥ 1). */
  steps?: number;
}

export async function profileTrainingStep({ file, overrides = {}, warmup = 1, steps = 1 }: ProfileOptions): Promise<StepProfile> {
  const { config } = loadRunConfig({ overrides: { ...overrides, engine: "tfjs" }, ...(file === undefined ? {} : { file }) });
  const { backend } = await initBackend("auto");
  const created = await createJob(config);
  try {
    const step = () => created.job.step({ keepImages: false });
    for (let i = 0; i < warmup; i++) step();
    const t0 = performance.now();
    step();
    const unprofiled = performance.now() - t0;
    const profiles = Array.from({ length: Math.max(1, steps) }, () => profile(step).profile);
    return {
      run: created.description,
      backend,
      unprofiled_step_ms: unprofiled,
      ops_per_step: profiles.map((p) => p.ops),
      profile: profiles.at(-1)!,
    };
  } finally {
    created.dispose();
  }
}

/** Profiles one step of the run config `file`, prints the tables on stdout and writes the figures as JSON to `out`. */
export async function reportStepProfile(file: string, out: string): Promise<void> {
  const result = await profileTrainingStep({ file });
  const host = { ...machine(), load_average: loadAverage() };
  await writeFileAtomic(out, JSON.stringify({ config: file, host, ...result }, null, 2) + "\n");
  const p = result.profile;
  process.stdout.write(
    [
      `${result.run} (${file})`,
      `host: ${host.cpu}, ${host.cpus} cores, load average ${host.load_average.join(" ")}; unprofiled step ${result.unprofiled_step_ms.toFixed(1)} ms`,
      "",
      formatProfile(p),
      "",
      `JSON: ${out}`,
      "",
    ].join("\n"),
  );
}
