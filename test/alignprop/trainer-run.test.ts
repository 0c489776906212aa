/**
 * AlignProp end to end through the product: `alignprop train --model <pipeline dir>` runs the real trainer process
 * on a tiny diffusers-layout pipeline, writes diffusers' LoRA file, resumes, and `alignprop sample --lora` uses it.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readLoraWeights } from "../../src/io/lora-weights.js";
import { alignprop } from "../helpers/cli.js";
import { straightAndResumed, type EventLine } from "../helpers/resume-twin.js";
import { TINY_MODEL } from "../helpers/tiny-model.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const lossesOf = (events: EventLine[]) => events.flatMap((e) => (e.metrics ? [e.metrics.loss] : []));

test("train --model <dir> runs AlignProp in the trainer process, exports the LoRA file, resumes exactly, and sample uses the LoRA", async () => {
  const model = TINY_MODEL;
  const common = ["--runs_dir", join(dir, "runs"), "--model", model, "--reward", "brightness", "--prompts", "shapes",
    "--sample_num_steps", "2", "--train_batch_size", "1", "--train_learning_rate", "0.05", "--save_freq", "2", "--seed", "4"];

  const { straightDir: runDir, straight, resumed } = await straightAndResumed(join(dir, "runs"), common, 4);
  assert.match(straight.find((e) => e.status?.message?.includes("reward"))!.status!.message!, /AlignProp on .*tiny-sd \(LoRA r=4, \d+ params; reward brightness\)/);
  const losses = lossesOf(straight);
  assert.equal(losses.length, 4);
  const lora = await readLoraWeights(join(runDir, "pytorch_lora_weights.safetensors"));
  assert.equal(lora.rank, 4);
  assert.ok(lora.layers.size > 0, "diffusers' LoRA file is in the run directory");
  assert.deepEqual(lossesOf(resumed), losses, "2 steps + resume for 2 more = 4 uninterrupted steps, bit for bit");

  const out = join(dir, "cat.png");
  const sampled = await alignprop(["sample", "--model", model, "--prompt", "a red circle", "--steps", "2", "--lora", join(runDir, "pytorch_lora_weights.safetensors"), "--out", out]);
  assert.equal(sampled.exitCode, 0, String(sampled.stderr));
  assert.ok(existsSync(out));
});
