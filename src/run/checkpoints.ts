/**
 * Checkpoints under `checkpoints/checkpoint_<step>/`: `model.safetensors` (weights and optimizer slots) and
 * `state.json` (step, epoch, RNG state, run id, last event seq, the engine that wrote it). Written atomically (filled in a temp sibling
 * `.checkpoint_<step>.tmp-<pid>`, fsynced, renamed into place); only the newest `limit` kept. A checkpoint is found
 * for resuming from a run directory (its newest) or named directly.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError } from "../config/index.js";
import { writeDirAtomic, writeFileAtomic } from "../io/atomic.js";
import { encodeSafetensors, readSafetensors, type TensorMap } from "../io/safetensors.js";
import { CHECKPOINT_NAME, CHECKPOINT_STATE_FILE, CHECKPOINT_TENSORS_FILE, CHECKPOINTS_DIR, checkpointDir, runFiles } from "./layout.js";

/** The engine this trainer is, as state.json names it; a checkpoint of another engine is resumed by that engine. */
export const ENGINE = "tfjs";

export interface CheckpointState {
  step: number;
  epoch: number;
  rngState: number;
  runId: string;
  /** The last event seq published before the save: a resumed run's events continue after it. */
  seq: number;
}

/** What state.json holds: the state and the engine that wrote it (its RNG state and tensors are that engine's). */
export interface SavedCheckpointState extends CheckpointState {
  engine: string;
}

export async function saveCheckpoint(runDir: string, state: CheckpointState, tensors: TensorMap, limit: number): Promise<string> {
  const path = join(runDir, checkpointDir(state.step));
  await rm(path, { recursive: true, force: true });
  await writeDirAtomic(path, async (dir) => {
    await writeFileAtomic(join(dir, CHECKPOINT_TENSORS_FILE), encodeSafetensors(tensors, { format: "pt" }));
    const saved: SavedCheckpointState = { ...state, engine: ENGINE };
    await writeFileAtomic(join(dir, CHECKPOINT_STATE_FILE), JSON.stringify(saved, null, 2) + "\n");
  });
  await pruneCheckpoints(runDir, limit);
  return path;
}

/** The steps of a run's complete checkpoints, newest first (temp directories of interrupted saves are not counted). */
export function listCheckpoints(runDir: string): number[] {
  const root = runFiles(runDir).checkpoints;
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((e) => CHECKPOINT_NAME.exec(e))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
}

/** Keeps the newest `limit` checkpoints and removes what interrupted saves left (`.checkpoint_*` temp directories). */
export async function pruneCheckpoints(runDir: string, limit: number): Promise<void> {
  const root = runFiles(runDir).checkpoints;
  const stale = existsSync(root) ? readdirSync(root).filter((e) => e.startsWith(".checkpoint_")) : [];
  for (const entry of stale) await rm(join(root, entry), { recursive: true, force: true });
  for (const step of listCheckpoints(runDir).slice(limit)) await rm(join(runDir, checkpointDir(step)), { recursive: true, force: true });
}

/** The newest complete checkpoint of a run, if any. */
export function latestCheckpoint(runDir: string): string | undefined {
  const [step] = listCheckpoints(runDir);
  return step === undefined ? undefined : join(runDir, checkpointDir(step));
}

/**
 * What `--resume <path>` means: a run directory (resume from its newest checkpoint) or one checkpoint directory
 * (`<run>/checkpoints/checkpoint_<N>`). A path that is neither is the user's mistake: a ConfigError on resume_from.
 */
export function resolveResume(path: string): { runDir: string; checkpoint: string } {
  const abs = resolve(path);
  const refuse = (why: string) => new ConfigError([{ field: "resume_from", message: `"${path}": ${why}` }]);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw refuse("no such directory");
  if (CHECKPOINT_NAME.test(basename(abs)) && basename(dirname(abs)) === CHECKPOINTS_DIR) {
    return { runDir: dirname(dirname(abs)), checkpoint: abs };
  }
  if (!existsSync(runFiles(abs).config)) {
    throw refuse("not a run directory (no config.json) nor a checkpoint_<N> directory");
  }
  const checkpoint = latestCheckpoint(abs);
  if (!checkpoint) throw refuse("the run has no checkpoint yet (checkpoints/checkpoint_<N>)");
  return { runDir: abs, checkpoint };
}

/** The engine that wrote a checkpoint: state.json's `engine`; without it, tfjs (which predates the field). */
export function checkpointEngine(path: string): string {
  const state = JSON.parse(readFileSync(join(path, CHECKPOINT_STATE_FILE), "utf8")) as Partial<SavedCheckpointState>;
  return state.engine ?? "tfjs";
}

/** Reads a checkpoint this engine wrote (state.json without `engine` predates the field: tfjs). */
export async function loadCheckpoint(path: string): Promise<{ state: SavedCheckpointState; tensors: TensorMap }> {
  const statePath = join(path, CHECKPOINT_STATE_FILE);
  const state = { engine: ENGINE, ...(JSON.parse(readFileSync(statePath, "utf8")) as Partial<SavedCheckpointState>) } as SavedCheckpointState;
  if (state.engine !== ENGINE) {
    throw new Error(`${statePath}: the checkpoint was written by the ${JSON.stringify(state.engine)} engine; resume it with that engine (this trainer is ${ENGINE})`);
  }
  for (const field of ["step", "epoch", "rngState", "seq"] as const) {
    if (!Number.isInteger(state[field]) || state[field] < 0) {
      throw new Error(`${statePath}: ${field}=${JSON.stringify(state[field])} is not a non-negative integer`);
    }
  }
  const { tensors } = await readSafetensors(join(path, CHECKPOINT_TENSORS_FILE));
  return { state, tensors };
}
