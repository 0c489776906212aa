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
import { alignprop, CLI } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-engine-torch-"));
after(() => rmSync(root, { recursive: true, force: true }));

const TINY = [
  "--engine", "torch", "--model", "tiny-shapes", "--train_batch_size", "1", "--sample_num_steps", "2",
  "--truncated_backprop_timestep", "1", "--truncated_rand_backprop_minmax", "[0,2]", "--log_image_freq", "1",
  "--save_freq", "1", "--num_checkpoint_limit", "2", "--runs_dir", root, "--run_name", "torch-run",
];
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface LoggedEvent {
  seq: number;
  metrics?: { step: number };
  checkpoint?: { step: number };
  images?: { step: number; images: { path: string; png?: string }[] };
}

const readEvents = (runDir: string): LoggedEvent[] =>
  readFileSync(join(runDir, "events.jsonl"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as LoggedEvent);

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
    const event = JSON.parse(line) as LoggedEvent;
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
  const checkpoints = readdirSync(join(runDir, "checkpoints")).filter((e) => /^checkpoint_\d+$/.test(e));
  assert.ok(checkpoints.includes(`checkpoint_${killedAfter}`), `${checkpoints.join(",")} holds the announced checkpoint`);
  assert.ok(!checkpoints.includes("checkpoint_1"), "pruned to num_checkpoint_limit=2");
  const state = JSON.parse(readFileSync(join(runDir, "checkpoints", `checkpoint_${killedAfter}`, "state.json"), "utf8"));
  assert.equal(state.engine, "torch");
  assert.equal(state.step, killedAfter);

  const refused = await alignprop(["train", "--ci", "--resume", runDir, "--engine", "tfjs"]);
  assert.notEqual(refused.exitCode, 0);
  assert.match(String(refused.stderr), /engine: "tfjs": .*written by the "torch" engine.*resume with --engine torch/);

  const total = killedAfter + 2;
  const resumed = await alignprop(["train", "--ci", "--resume", runDir, "--num_epochs", String(total)]);
  assert.equal(resumed.exitCode, 0, String(resumed.stderr));

  const events = readEvents(runDir);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), "seq 1, 2, 3, … once each across the resume");
  const steps = events.flatMap((e) => (e.metrics ? [e.metrics.step] : []));
  assert.deepEqual(steps, Array.from({ length: total }, (_, i) => i + 1), "each step's metrics once");
  for (const batch of events.flatMap((e) => (e.images ? [e.images] : []))) {
    for (const image of batch.images) {
      assert.equal(image.png, undefined, "logged without pixels");
      assert.deepEqual(readFileSync(join(runDir, image.path)).subarray(0, 8), PNG_SIGNATURE);
    }
    const captions = JSON.parse(readFileSync(join(runDir, "images", `step-${batch.step}`, "captions.json"), "utf8"));
    assert.equal(captions[0].file, "0.png");
    assert.equal(typeof captions[0].reward, "number");
  }
  const kept = readdirSync(join(runDir, "checkpoints")).sort();
  assert.deepEqual(kept, [`checkpoint_${total - 1}`, `checkpoint_${total}`], "newest two, no temp folders");

  const report = await alignprop(["report", runDir]);
  assert.equal(report.exitCode, 0, String(report.stderr));
  assert.ok(existsSync(join(runDir, "report.html")));

  const out = join(root, "sample.png");
  const lora = join(runDir, "pytorch_lora_weights.safetensors");
  const sampled = await alignprop(["sample", "--prompt", "a red circle", "--steps", "2", "--lora", lora, "--out", out]);
  assert.equal(sampled.exitCode, 0, String(sampled.stderr));
  assert.deepEqual(readFileSync(out).subarray(0, 8), PNG_SIGNATURE);
});
