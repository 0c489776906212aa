/**
 * Reads what a run logged to a tracker back with the tracker's own Python code, from the project's environment:
 * TensorBoard event files with TensorBoard's EventAccumulator (python/tools/read_tensorboard.py), offline wandb runs
 * with wandb's record protobufs (python/tools/read_wandb_history.py).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { projectPython, PYTHON_DIR } from "../../src/python/env.js";

export interface TensorBoardRead {
  scalars: Record<string, Array<[number, number]>>;
  /** tag → [step, width, height, sha256 of the PNG] */
  images: Record<string, Array<[number, number, number, string]>>;
  text: Record<string, Array<[number, string]>>;
}

export interface WandbRun {
  project: string;
  name: string;
  tags: string[];
  config: Record<string, unknown>;
  /** One row per step: `_step` and what was logged at it (nested keys joined with "/", e.g. "images/captions"). */
  history: Array<Record<string, unknown> & { _step: number }>;
  /** The saved media files, relative to the run's directory. */
  media: string[];
}

function runTool<T>(tool: string, dir: string): T {
  const r = spawnSync(projectPython(), [join(PYTHON_DIR, "tools", tool), dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

/** A TensorBoard run directory (`<logdir>/<run name>`), as TensorBoard's own reader sees it. */
export const readWithTensorBoard = (dir: string): TensorBoardRead => runTool("read_tensorboard.py", dir);

/** Every offline wandb run under `dir` (its `wandb/offline-run-*` folders, oldest first). */
export const readWandbRuns = (dir: string): WandbRun[] => runTool("read_wandb_history.py", dir);

/** Equal within float32's precision (TensorBoard stores scalars as float32). */
export const closeTo = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
