/** Faults inside the trainer: a diverging run fails cleanly keeping its last good checkpoint; a failed save does not. */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { latestCheckpoint, loadCheckpoint } from "../../src/run/index.js";
import { alignprop } from "../helpers/cli.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("a NaN loss stops the run with a clear error, exit code 1, and the last good checkpoint kept", async () => {
  const cli = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs.dir, "--run_name", "diverges", "--num_epochs", "50", "--save_freq", "1", "--train_learning_rate", "1e12"]);
  assert.equal(cli.exitCode, 1);
  const message = /training diverged[^\n]*/.exec(String(cli.stderr))?.[0];
  assert.ok(message, `stderr names the divergence:\n${String(cli.stderr)}`);
  const runDir = join(runs.dir, "diverges");
  const log = readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(log.at(-1).status.state, "RUN_STATE_FAILED");
  const error = log.find((l) => l.error)!.error.message as string;
  // Seeded, so the divergence is deterministic: LoRA weights overflow at step 2, after checkpoint 1.
  assert.match(error, /(^loss is NaN at|is not finite after) step (\d+): training diverged .*the last good checkpoint is kept \(step \d+\)$/);
  const newest = latestCheckpoint(runDir)!;
  const { tensors } = await loadCheckpoint(newest);
  assert.ok(Object.values(tensors).every((t) => t.data.every(Number.isFinite)), "the kept checkpoint holds no NaN");
});

test("an unwritable checkpoints directory reports the failed save, keeps training and the previous checkpoint", async () => {
  const run = runs.prepare({ num_epochs: "100000", save_freq: "5" });
  const trainer = await runs.spawn({ configPath: run.configPath });
  const tap = new EventTap(trainer.client);
  await tap.until((e) => e.payload.case === "checkpoint" && e.payload.value.step === 5, "the checkpoint at step 5");
  await trainer.client.pause();
  await tap.untilState(RunState.PAUSED);
  const dir = join(run.runDir, "checkpoints");
  renameSync(dir, `${dir}.safe`);
  writeFileSync(dir, "not a directory"); // root ignores permissions, so block the path with a file instead
  await trainer.client.resume();
  const failed = await tap.until((e) => e.payload.case === "error", "the failed save");
  assert.ok(failed.payload.case === "error");
  assert.equal(failed.payload.value.source, "checkpoint");
  assert.match(failed.payload.value.message, /checkpoint at step 10 \(save_freq\) could not be saved: .*training continues, the previous checkpoint is intact/);
  await tap.untilStep(12);
  assert.ok(!tap.events.some((e) => e.payload.case === "status" && e.payload.value.state === RunState.FAILED));

  await trainer.client.pause();
  await tap.untilState(RunState.PAUSED);
  rmSync(dir);
  renameSync(`${dir}.safe`, dir);
  await loadCheckpoint(join(dir, "checkpoint_5"));
  await trainer.client.stop();
  await tap.untilState(RunState.DONE);
  assert.equal((await trainer.exit).exitCode, 0);
  const final = latestCheckpoint(run.runDir)!;
  await loadCheckpoint(final);
  mkdirSync(dir, { recursive: true });
});
