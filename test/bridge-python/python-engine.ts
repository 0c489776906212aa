/**
 * The Python engine's processes for tests, spawned with the project's Python through the same `spawnTrainer` and temp
 * runs as the TF.js trainer's: the wire's scripted run (`python -m alignprop_torch.wire.demo`) and the PyTorch trainer
 * (`python -m alignprop_torch.trainer`); and the events.jsonl line the TS trainer writes for an event.
 */
import { clone, toJsonString } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { PYTHON_DIR, projectPython } from "../../src/python/env.js";
import { torchTrainer } from "../../src/python/torch-trainer.js";
import type { SpawnOptions, SpawnedTrainer } from "../../src/bridge/spawn.js";
import type { SpawnRun } from "../helpers/contract.js";
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

/** What the TS trainer writes to events.jsonl for an event: its JSON, image batches without their PNG bytes. */
export function tsJsonLine(event: Event): string {
  const logged = clone(EventSchema, event);
  if (logged.payload.case === "images") for (const image of logged.payload.value.images) image.png = new Uint8Array(0);
  return toJsonString(EventSchema, logged);
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
