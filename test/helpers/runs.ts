/**
 * Test runs: a temp runs directory per test file, prepared runs (validated config.json) inside it, and trainers
 * spawned through it — killed at cleanup, so a failing test never leaves a trainer training. Runs train the real
 * AlignProp job on the tiny pipeline with fast settings (TINY_RUN), so they exercise the optimizer and checkpoint
 * format users get.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnTrainer, type SpawnOptions, type SpawnedTrainer } from "../../src/bridge/spawn.js";
import { prepareRun, type PreparedRun } from "../../src/run/index.js";
import { TINY_RUN } from "./tiny-model.js";

export interface TempRuns {
  dir: string;
  prepare(overrides?: Record<string, string>): PreparedRun;
  spawn(opts: SpawnOptions): Promise<SpawnedTrainer>;
  cleanup(): void;
}

export function tempRuns(): TempRuns {
  const dir = mkdtempSync(join(tmpdir(), "alignprop-test-"));
  const spawned: SpawnedTrainer[] = [];
  return {
    dir,
    prepare: (overrides = {}) =>
      // TINY_RUN's reward, prompts and sizes belong to its model: a test naming another model sets its own.
      prepareRun(undefined, { runs_dir: dir, ...(overrides.model ? {} : TINY_RUN), save_freq: "1000", log_image_freq: "5", ...overrides }),
    spawn: async (opts) => {
      const trainer = await spawnTrainer(opts);
      spawned.push(trainer);
      return trainer;
    },
    cleanup: () => {
      for (const t of spawned) t.process.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
