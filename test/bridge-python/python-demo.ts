/**
 * Spawning the Python wire's scripted run (`python -m alignprop_torch.wire.demo`) with the project's Python, through
 * the same `spawnTrainer` and temp runs as the TF.js trainer's tests.
 */
import { PYTHON_DIR, projectPython } from "../../src/python/env.js";
import type { SpawnOptions, SpawnedTrainer } from "../../src/bridge/spawn.js";
import type { TempRuns } from "../helpers/runs.js";

/** The demo trainer's command line: each scripted step takes `stepMs`. */
export function pythonDemo(stepMs = 5): Pick<SpawnOptions, "command" | "env"> {
  return {
    command: [projectPython(), "-m", "alignprop_torch.wire.demo", "--step-ms", String(stepMs)],
    env: { PYTHONPATH: PYTHON_DIR },
  };
}

/** Spawns the Python demo for a run prepared in `runs` (`num_epochs` etc. as config overrides). */
export function spawnPythonDemo(
  runs: TempRuns,
  overrides: Record<string, string>,
  opts: Omit<SpawnOptions, "configPath" | "command"> & { stepMs?: number } = {},
): Promise<SpawnedTrainer> {
  const run = runs.prepare(overrides);
  const { stepMs, ...rest } = opts;
  return runs.spawn({ ...pythonDemo(stepMs), ...rest, configPath: run.configPath });
}
