/** Test runs: a temp runs directory per test and a prepared run (validated config.json) inside it. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareRun, type PreparedRun } from "../../src/cli/run-setup.js";

export interface TempRuns {
  dir: string;
  prepare(overrides?: Record<string, string>): PreparedRun;
  cleanup(): void;
}

export function tempRuns(): TempRuns {
  const dir = mkdtempSync(join(tmpdir(), "alignprop-test-"));
  return {
    dir,
    prepare: (overrides = {}) =>
      prepareRun(undefined, { runs_dir: dir, train_batch_size: "2", save_freq: "1000", log_image_freq: "5", ...overrides }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
