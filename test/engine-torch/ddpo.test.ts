/**
 * `alignprop train --engine torch --algorithm ddpo` end to end: the real CLI spawns the real Python trainer (DDPO on
 * diffusers + peft, tiny-shapes, a two-step DDIM chain, two samples per epoch, CPU) over real sockets. The prompts
 * are tracked (their buffers stay below min_count 16, so the advantages are the batch's, as TRL computes them then). Every step's
 * metrics carry TRL's approx_kl and clip_fraction, the checkpoints hold the per-prompt reward buffers under the TF.js
 * engine's keys, and `--resume` continues from the newest checkpoint with the buffers it saved. Two torch processes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { STAT_TRACKER_PREFIX } from "../../src/algorithms/ddpo-advantages.js";
import { readSafetensors } from "../../src/io/safetensors.js";
import { CHECKPOINT_STATE_FILE, CHECKPOINT_TENSORS_FILE, latestCheckpoint, listCheckpoints, readEventsLog, runFiles } from "../../src/run/index.js";
import { alignprop } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-engine-torch-ddpo-"));
after(() => rmSync(root, { recursive: true, force: true }));

const DDPO = [
  "--engine", "torch", "--algorithm", "ddpo", "--model", "tiny-shapes", "--sample_num_steps", "2", "--eval_freq", "0",
  "--sample_batch_size", "2", "--sample_num_batches_per_epoch", "1", "--train_batch_size", "1",
  "--per_prompt_stat_tracking", "true", "--log_image_freq", "2",
  "--save_freq", "1", "--num_checkpoint_limit", "2", "--runs_dir", root, "--run_name", "ddpo-run",
];

/** How many rewards the checkpoint's per-prompt buffers hold in all. */
async function bufferedRewards(checkpoint: string): Promise<number> {
  assert.equal(JSON.parse(readFileSync(join(checkpoint, CHECKPOINT_STATE_FILE), "utf8")).engine, "torch");
  const { tensors } = await readSafetensors(join(checkpoint, CHECKPOINT_TENSORS_FILE));
  const buffers = Object.entries(tensors).filter(([key]) => key.startsWith(STAT_TRACKER_PREFIX));
  assert.ok(buffers.length > 0, `reward buffers in ${checkpoint}: ${Object.keys(tensors).join(", ")}`);
  return buffers.reduce((n, [, t]) => n + t.data.length, 0);
}

test("train --engine torch --algorithm ddpo: approx_kl and clip_fraction in every step's metrics; --resume continues with the saved reward buffers", async () => {
  const runDir = join(root, "ddpo-run");
  const first = await alignprop(["train", "--ci", "--num_epochs", "2", ...DDPO]);
  assert.equal(first.exitCode, 0, String(first.stderr));
  assert.deepEqual(listCheckpoints(runDir), [2, 1]);
  assert.equal(await bufferedRewards(latestCheckpoint(runDir)!), 4, "two epochs of two samples");

  const resumed = await alignprop(["train", "--ci", "--resume", runDir, "--num_epochs", "3"]);
  assert.equal(resumed.exitCode, 0, String(resumed.stderr));
  assert.deepEqual(listCheckpoints(runDir), [3, 2]);
  assert.equal(await bufferedRewards(latestCheckpoint(runDir)!), 6, "the resumed epoch added to the restored buffers");

  const log = await readEventsLog(runFiles(runDir).events);
  const seqs = log.events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seq 1, 2, 3, … once each across the resume");
  const metrics = log.events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value] : []));
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3], "each step's metrics once");
  for (const m of metrics) {
    assert.deepEqual(Object.keys(m.scalars).sort(), ["approx_kl", "clip_fraction"], `step ${m.step}`);
    assert.ok(m.scalars.approx_kl! >= 0 && Number.isFinite(m.scalars.approx_kl), `approx_kl ${m.scalars.approx_kl}`);
    assert.ok(m.scalars.clip_fraction! >= 0 && m.scalars.clip_fraction! <= 1, `clip_fraction ${m.scalars.clip_fraction}`);
    assert.ok(Number.isFinite(m.loss) && m.gradNorm > 0, `step ${m.step}: loss ${m.loss}, grad norm ${m.gradNorm}`);
    assert.equal(m.lr, 3e-4, "DDPO's default learning rate (TRL's DDPOConfig)");
  }
  const images = log.events.flatMap((e) => (e.payload.case === "images" ? [e.payload.value.step] : []));
  assert.deepEqual(images, [2], "log_image_freq=2");
});
