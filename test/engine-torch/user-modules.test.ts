/**
 * The user's Python code on `--engine torch`: a reward module (TRL's `reward_function(images, prompts,
 * prompt_metadata)`) trains the run, and an image hook (TRL's `image_samples_hook(prompt_image_data, global_step,
 * tracker)`) gets every logged batch — the real CLI, the real Python trainer, tiny-shapes, three steps on the CPU.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { readEventsLog, runFiles } from "../../src/run/index.js";
import { alignprop } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-torch-modules-"));
after(() => rmSync(root, { recursive: true, force: true }));
const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/torch-modules/${name}`, import.meta.url));

interface HookCall {
  step: number;
  tracker: string;
  shape: number[];
  means: number[];
  rewards: number[];
  prompts: string[];
  prompt_metadata: Array<{ colour?: string; shape?: string }>;
  paths: string[];
}

test("train --engine torch trains on a Python reward module and calls a Python image hook with each logged batch", async () => {
  const r = await alignprop([
    "train", "--ci", "--engine", "torch", "--model", "tiny-shapes", "--train_batch_size", "2", "--sample_num_steps", "2", "--eval_freq", "0",
    "--truncated_backprop_rand", "false", "--truncated_backprop_timestep", "1", "--num_epochs", "3", "--log_image_freq", "1",
    "--runs_dir", root, "--run_name", "modules",
    "--reward", fixture("mean_reward.py"), "--image_hook", `${fixture("record_batches.py")}:image_samples_hook`,
  ]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const runDir = join(root, "modules");
  const calls = readFileSync(join(runDir, "hook-calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as HookCall);
  assert.deepEqual(calls.map((c) => c.step), [1, 2, 3], "one call per logged step, with its step");

  const log = await readEventsLog(runFiles(runDir).events);
  const metrics = log.events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value] : []));
  for (const [i, c] of calls.entries()) {
    assert.equal(c.tracker, "None");
    assert.deepEqual(c.shape, [2, 3, 32, 32], "the images as sampled: [B, 3, H, W]");
    // The reward is the module's (each image's mean), scored on the very images the hook got.
    c.rewards.forEach((reward, b) => assert.ok(Math.abs(reward - c.means[b]!) < 1e-6, `step ${c.step}: reward ${reward} vs mean ${c.means[b]}`));
    assert.ok(Math.abs(metrics[i]!.rewardMean - (c.rewards[0]! + c.rewards[1]!) / 2) < 1e-6, "the metrics report the same rewards");
    assert.ok(c.prompt_metadata.every((m, b) => c.prompts[b] === `a ${m.colour} ${m.shape}`), "prompts with their metadata");
    assert.deepEqual(c.paths, [`images/step-${c.step}/0.png`, `images/step-${c.step}/1.png`]);
    assert.ok(c.paths.every((p) => existsSync(join(runDir, p))), "the PNGs are written before the hook runs");
  }
  assert.ok(metrics.every((m) => m.gradNorm > 0), "the module's gradient reaches the LoRA weights");
});

test("a Python reward module that is missing is refused before a run folder exists, naming the field and path", async () => {
  const r = await alignprop(["train", "--ci", "--engine", "torch", "--runs_dir", root, "--run_name", "missing", "--reward", "./no-such-reward.py"]);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /reward="\.\/no-such-reward\.py": no such reward module \(.*no-such-reward\.py does not exist\)/);
  assert.ok(!existsSync(join(root, "missing")));
});
