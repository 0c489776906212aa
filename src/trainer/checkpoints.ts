/**
 * Checkpoints under `checkpoints/checkpoint_<step>/`: `model.safetensors` (weights and optimizer slots) and
 * `state.json` (step, epoch, RNG state). Written atomically (temp dir, fsync, rename); only the newest `limit` kept.
 */
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeDirAtomic, writeFileAtomic } from "../io/atomic.js";
import { encodeSafetensors, type TensorMap } from "../io/safetensors.js";

export interface CheckpointState {
  step: number;
  epoch: number;
  rngState: number;
  runId: string;
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
