/**
 * `alignprop train --engine torch` end to end: the real CLI spawns the real Python trainer (AlignProp on diffusers +
 * peft, tiny-shapes, a two-step DDIM chain, batch 1, CPU) over real sockets; the run directory it writes is the one
 * src/run/README.md documents. The run is killed with SIGKILL (CLI and trainer) after a few checkpoints, a resume in
 * the tfjs engine is refused naming why, `--resume` continues it from the newest checkpoint with each step once in
 * events.jsonl, and `alignprop report` and `alignprop sample --lora` read the result. Two torch processes in all.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, test } from "node:test";
import { execa } from "execa";
import { isPng } from "../../src/io/png.js";
import { latestCheckpoint, listCheckpoints, readEventsLog, readRunImage, runFiles } from "../../src/run/index.js";
import { alignprop, CLI } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-engine-torch-"));
after(() => rmSync(root, { recursive: true, force: true }));

const TINY = [
  "--engine", "torch", "--model", "tiny-shapes", "--train_batch_size", "1", "--sample_num_steps", "2", "--eval_freq", "0",
  "--truncated_backprop_timestep", "1", "--truncated_rand_backprop_minmax", "[0,2]", "--log_image_freq", "1",
  "--save_freq", "1", "--num_checkpoint_limit", "2", "--runs_dir", root, "--run_name", "torch-run",
];

/** What `--ci` prints on stdout: one JSON object per event. */
interface CiEvent {
  checkpoint?: { step: number };
}

/** Starts `train --ci` in its own process group and SIGKILLs the group (CLI and trainer) once checkpoint `step` is announced. */
async function trainUntilCheckpointThenKill(step: number): Promise<number> {
  const child = execa(process.execPath, [CLI, "train", "--ci", "--num_epochs", "1000", ...TINY], {
    reject: false,
    detached: true,
    stdin: "ignore",
    stderr: "pipe",
  });
  const lines = createInterface({ input: child.stdout! });
  let saved = -1;
  for await (const line of lines) {
    const event = JSON.parse(line) as CiEvent;
    if (event.checkpoint && event.checkpoint.step >= step) {
      saved = event.checkpoint.step;
      process.kill(-child.pid!, "SIGKILL");
      break;
    }
  }
  const result = await child;
  assert.equal(result.signal, "SIGKILL", `the run ended before checkpoint ${step}: ${String(result.stderr)}`);
  return saved;
}

test("train --engine torch: kill -9, tfjs refused, --resume continues once per step; report and sample --lora read the run", async () => {
  const runDir = join(root, "torch-run");
  const killedAfter = await trainUntilCheckpointThenKill(3);
  const checkpoints = listCheckpoints(runDir);
  assert.equal(checkpoints[0], killedAfter, "the announced checkpoint is the newest complete one");
  assert.ok(!checkpoints.includes(1), `pruned to num_checkpoint_limit=2: ${checkpoints.join(",")}`);
  const state = JSON.parse(readFileSync(join(latestCheckpoint(runDir)!, "state.json"), "utf8"));
  assert.equal(state.engine, "torch");
  assert.equal(state.step, killedAfter);

  const refused = await alignprop(["train", "--ci", "--resume", runDir, "--engine", "tfjs"]);
  assert.notEqual(refused.exitCode, 0);
  assert.match(String(refused.stderr), /engine: "tfjs": .*written by the "torch" engine.*resume with --engine torch/);

  const total = killedAfter + 2;
  const resumed = await alignprop(["train", "--ci", "--resume", runDir, "--num_epochs", String(total)]);
  assert.equal(resumed.exitCode, 0, String(resumed.stderr));

  const log = await readEventsLog(runFiles(runDir).events);
  assert.equal(log.torn, undefined);
  const seqs = log.events.map((e) => e.seq);
  assert.deepEqual(seqs, seqs.map((_, i) => i + 1), "seq 1, 2, 3, … once each across the resume");
  const steps = log.events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value.step] : []));
  assert.deepEqual(steps, Array.from({ length: total }, (_, i) => i + 1), "each step's metrics once");
  const batches = log.events.flatMap((e) => (e.payload.case === "images" ? [e.payload.value] : []));
  assert.deepEqual(batches.map((b) => b.step), steps, "every step's images (log_image_freq=1)");
  for (const batch of batches) {
    for (const image of batch.images) {
      assert.equal(image.png.length, 0, "logged without pixels");
      const read = await readRunImage(runDir, image.path);
      assert.ok(read.ok, `${image.path}: ${read.ok ? "" : read.reason}`);
    }
    const captions = JSON.parse(readFileSync(join(runDir, "images", `step-${batch.step}`, "captions.json"), "utf8"));
    assert.deepEqual(captions.map((c: { file: string }) => c.file), ["0.png"]);
    assert.equal(captions[0].reward, batch.images[0]!.reward);
  }
  const kept = readdirSync(runFiles(runDir).checkpoints).sort();
  assert.deepEqual(kept, [`checkpoint_${total - 1}`, `checkpoint_${total}`], "newest two, no temp folders");

  const report = await alignprop(["report", runDir]);
  assert.equal(report.exitCode, 0, String(report.stderr));
  assert.ok(existsSync(runFiles(runDir).report));

  const out = join(root, "sample.png");
  const lora = runFiles(runDir).loraWeights;
  const sampled = await alignprop(["sample", "--prompt", "a red circle", "--steps", "2", "--lora", lora, "--out", out]);
  assert.equal(sampled.exitCode, 0, String(sampled.stderr));
  assert.ok(isPng(readFileSync(out)));
});
