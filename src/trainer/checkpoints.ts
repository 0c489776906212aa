/**
 * Checkpoints under `checkpoints/checkpoint_<step>/`: `model.safetensors` (weights and optimizer slots) and
 * `state.json` (step, epoch, RNG state, last event seq). Written atomically (temp dir, fsync, rename); only the newest
 * `limit` kept. A checkpoint is found for resuming from a run directory (its newest) or named directly.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { writeDirAtomic, writeFileAtomic } from "../io/atomic.js";
import { encodeSafetensors, readSafetensors, type TensorMap } from "../io/safetensors.js";

export interface CheckpointState {
  step: number;
  epoch: number;
  rngState: number;
  runId: string;
  /** The last event seq published before the save: a resumed run's events continue after it. */
  seq: number;
}

const NAME = /^checkpoint_(\d+)$/;

export async function saveCheckpoint(
  runDir: string,
  state: CheckpointState,
  tensors: TensorMap,
  limit: number,
): Promise<string> {
  const root = join(runDir, "checkpoints");
  const path = join(root, `checkpoint_${state.step}`);
  await rm(path, { recursive: true, force: true });
  await writeDirAtomic(path, async (dir) => {
    await writeFileAtomic(join(dir, "model.safetensors"), encodeSafetensors(tensors, { format: "pt" }));
    await writeFileAtomic(join(dir, "state.json"), JSON.stringify(state, null, 2) + "\n");
  });
  await prune(root, limit);
  return path;
}

async function prune(root: string, limit: number): Promise<void> {
  const entries = await readdir(root);
  for (const stale of entries.filter((e) => e.startsWith(".checkpoint_"))) await rm(join(root, stale), { recursive: true, force: true });
  const steps = entries.map((e) => NAME.exec(e)).filter((m) => m !== null).map((m) => Number(m[1])).sort((a, b) => b - a);
  for (const step of steps.slice(limit)) await rm(join(root, `checkpoint_${step}`), { recursive: true, force: true });
}

/** The newest complete checkpoint of a run, if any. */
export function latestCheckpoint(runDir: string): string | undefined {
  const root = join(runDir, "checkpoints");
  if (!existsSync(root)) return undefined;
  const steps = readdirSync(root)
    .map((e) => NAME.exec(e))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  return steps.length ? join(root, `checkpoint_${steps[0]}`) : undefined;
}

/**
 * What `--resume <path>` means: a run directory (resume from its newest checkpoint) or one checkpoint directory
 * (`<run>/checkpoints/checkpoint_<N>`).
 */
export function resolveResume(path: string): { runDir: string; checkpoint: string } {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new Error(`resume_from="${path}": no such directory`);
  if (NAME.test(basename(abs)) && basename(dirname(abs)) === "checkpoints") {
    return { runDir: dirname(dirname(abs)), checkpoint: abs };
  }
  if (!existsSync(join(abs, "config.json"))) {
    throw new Error(`resume_from="${path}": not a run directory (no config.json) nor a checkpoint_<N> directory`);
  }
  const checkpoint = latestCheckpoint(abs);
  if (!checkpoint) throw new Error(`resume_from="${path}": the run has no checkpoint yet (checkpoints/checkpoint_<N>)`);
  return { runDir: abs, checkpoint };
}

export async function loadCheckpoint(path: string): Promise<{ state: CheckpointState; tensors: TensorMap }> {
  const state = JSON.parse(readFileSync(join(path, "state.json"), "utf8")) as CheckpointState;
  for (const field of ["step", "epoch", "rngState", "seq"] as const) {
    if (!Number.isInteger(state[field]) || state[field] < 0) {
      throw new Error(`${join(path, "state.json")}: ${field}=${JSON.stringify(state[field])} is not a non-negative integer`);
    }
  }
  const { tensors } = await readSafetensors(join(path, "model.safetensors"));
  return { state, tensors };
}
