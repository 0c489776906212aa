/**
 * The Python engine's processes for tests, spawned with the project's Python through the same `spawnTrainer` and temp
 * runs as the TF.js trainer's: the wire's scripted run (`python -m alignprop_torch.wire.demo`) and the PyTorch trainer
 * (`python -m alignprop_torch.trainer`); and the events.jsonl line the TS trainer writes for an event.
 */
import { clone } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { PYTHON_DIR, projectPython } from "../../src/python/env.js";
import { torchTrainer } from "../../src/python/torch-trainer.js";
import { eventsLogLine } from "../../src/run/events-log.js";
import type { SpawnOptions, SpawnedTrainer } from "../../src/bridge/spawn.js";
import type { RespawnRun, SpawnRun } from "../helpers/contract.js";
import type { TempRuns } from "../helpers/runs.js";

/** The demo trainer's command line: each scripted step takes `stepMs`. */
export function pythonDemo(stepMs = 5): Pick<SpawnOptions, "command" | "env"> {
  return {
    command: [projectPython(), "-m", "alignprop_torch.wire.demo", "--step-ms", String(stepMs)],
    env: { PYTHONPATH: PYTHON_DIR },
  };
}

/** The PyTorch trainer's command line, as `alignprop train --engine torch` spawns it. */
export const pythonTorchTrainer = torchTrainer;

/** What the TS trainer writes to events.jsonl for an event (src/run/events-log.ts, on a copy). */
export function tsJsonLine(event: Event): string {
  return eventsLogLine(clone(EventSchema, event));
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

/** The Python demo as a contract engine (test/helpers/contract.ts). */
export const pythonDemoEngine =
  (runs: TempRuns, stepMs?: number): SpawnRun =>
  (overrides, opts) =>
    spawnPythonDemo(runs, overrides, { ...opts, stepMs });

/** Tiny-shapes at the smallest AlignProp job the torch trainer runs: a two-step DDIM chain, batch 1, on the CPU. */
export const TORCH_TINY: Readonly<Record<string, string>> = {
  engine: "torch",
  model: "tiny-shapes",
  train_batch_size: "1",
  sample_num_steps: "2",
  truncated_backprop_timestep: "1",
  truncated_rand_backprop_minmax: "[0,2]",
  // No evaluation pass (48 samples on CPU): test/engine-torch/eval.test.ts tests it.
  eval_freq: "0",
};

/**
 * One OpenMP thread for test trainers: on a CPU shared by many processes, torch's spinning intra-op threads made a
 * TORCH_TINY step take 3-17 s instead of 0.2-0.8 s (measured with `alignprop train --engine torch`, load ~14 on 2 cores).
 */
export const TORCH_TEST_ENV: Readonly<Record<string, string>> = { OMP_NUM_THREADS: "1" };

/** The PyTorch trainer on a run in `runs` (its config names engine "torch"), with the caller's env added. */
export const torchRespawn =
  (runs: TempRuns): RespawnRun =>
  (configPath, opts) => {
    const trainer = torchTrainer();
    return runs.spawn({ ...opts, command: trainer.command, env: { ...TORCH_TEST_ENV, ...opts?.env, ...trainer.env }, configPath });
  };

/** The PyTorch trainer as a contract engine (test/helpers/contract.ts), on TORCH_TINY runs. */
export const torchEngine =
  (runs: TempRuns): SpawnRun =>
  (overrides, opts) =>
    torchRespawn(runs)(runs.prepare({ ...TORCH_TINY, ...overrides }).configPath, opts);
