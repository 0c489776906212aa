import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readSafetensors, type TensorMap } from "../../src/io/safetensors.js";
import { latestCheckpoint, listCheckpoints, loadCheckpoint, saveCheckpoint, type CheckpointState } from "../../src/run/index.js";

const root = await mkdtemp(join(tmpdir(), "alignprop-checkpoints-"));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const freshRunDir = async () => {
  const dir = join(root, `run-${n++}`);
  await mkdir(dir);
  return dir;
};

const tensors = (step: number): TensorMap => ({
  "net.0.weight": { shape: [2, 2], data: Float32Array.from([step, 1, 2, 3]) },
  "optimizer.net.0.weight/m": { shape: [2, 2], data: Float32Array.from([0.1, 0.2, 0.3, step]) },
});
const state = (step: number): CheckpointState => ({ step, epoch: step - 1, rngState: 123456789 + step, runId: "run-ck", seq: 10 * step });

const checkpointDirs = async (runDir: string) => (await readdir(join(runDir, "checkpoints"))).sort();

test("saveCheckpoint writes model.safetensors and state.json under checkpoints/checkpoint_<step>", async () => {
  const runDir = await freshRunDir();
  const path = await saveCheckpoint(runDir, state(3), tensors(3), 5);
  assert.equal(path, join(runDir, "checkpoints", "checkpoint_3"));
  assert.deepEqual((await readdir(path)).sort(), ["model.safetensors", "state.json"]);

  const { tensors: weights, metadata } = await readSafetensors(join(path, "model.safetensors"));
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(weights, tensors(3));
  assert.deepEqual(JSON.parse(await readFile(join(path, "state.json"), "utf8")), { ...state(3), engine: "tfjs" });
});

test("loadCheckpoint reads back what was saved, and refuses another engine's checkpoint naming it", async () => {
  const runDir = await freshRunDir();
  const path = await saveCheckpoint(runDir, state(2), tensors(2), 5);
  const loaded = await loadCheckpoint(path);
  assert.deepEqual(loaded.state, { ...state(2), engine: "tfjs" });
  assert.deepEqual(loaded.tensors, tensors(2));
  await writeFile(join(path, "state.json"), JSON.stringify({ ...state(2), engine: "torch" }));
  await assert.rejects(loadCheckpoint(path), /state\.json: the checkpoint was written by the "torch" engine; resume it with that engine \(this trainer is tfjs\)/);
});

test("saveCheckpoint keeps only the newest `limit` checkpoints, by step number", async () => {
  const runDir = await freshRunDir();
  for (const step of [2, 4, 6, 8, 10, 12]) await saveCheckpoint(runDir, state(step), tensors(step), 3);
  assert.deepEqual(await checkpointDirs(runDir), ["checkpoint_10", "checkpoint_12", "checkpoint_8"]);
  const newest = await readSafetensors(join(runDir, "checkpoints", "checkpoint_12", "model.safetensors"));
  assert.deepEqual(newest.tensors, tensors(12));
});

test("pruning orders checkpoints numerically, not as strings; listing and the latest follow the same order", async () => {
  const runDir = await freshRunDir();
  assert.deepEqual(listCheckpoints(runDir), []);
  assert.equal(latestCheckpoint(runDir), undefined);
  for (const step of [9, 10, 100]) await saveCheckpoint(runDir, state(step), tensors(step), 2);
  assert.deepEqual(await checkpointDirs(runDir), ["checkpoint_10", "checkpoint_100"]);
  await mkdir(join(runDir, "checkpoints", ".checkpoint_200.tmp-1"));
  assert.deepEqual(listCheckpoints(runDir), [100, 10], "newest first; an interrupted save's temp dir is not a checkpoint");
  assert.equal(latestCheckpoint(runDir), join(runDir, "checkpoints", "checkpoint_100"));
});

test("saving the same step again replaces that checkpoint", async () => {
  const runDir = await freshRunDir();
  await saveCheckpoint(runDir, state(4), tensors(4), 3);
  await saveCheckpoint(runDir, { ...state(4), epoch: 99 }, tensors(40), 3);
  assert.deepEqual(await checkpointDirs(runDir), ["checkpoint_4"]);
  const path = join(runDir, "checkpoints", "checkpoint_4");
  assert.equal(JSON.parse(await readFile(join(path, "state.json"), "utf8")).epoch, 99);
  assert.deepEqual((await readSafetensors(join(path, "model.safetensors"))).tensors, tensors(40));
});

test("a save removes temp dirs a crashed save left behind and ignores files it does not own", async () => {
  const runDir = await freshRunDir();
  const dir = join(runDir, "checkpoints");
  await mkdir(join(dir, ".checkpoint_7.tmp-99999"), { recursive: true });
  await writeFile(join(dir, ".checkpoint_7.tmp-99999", "model.safetensors"), "half");
  await writeFile(join(dir, "README.txt"), "mine");
  await saveCheckpoint(runDir, state(8), tensors(8), 1);
  assert.deepEqual(await checkpointDirs(runDir), ["README.txt", "checkpoint_8"]);
});
