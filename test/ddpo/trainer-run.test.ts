/**
 * DDPO end to end through the product: `alignprop train --algorithm ddpo --model <pipeline dir>` runs the real
 * trainer process on a tiny diffusers-layout pipeline, with a user reward module that has no gradient, writes diffusers' LoRA file, and resumes exactly — per-prompt
 * reward statistics included.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { readLoraWeights } from "../../src/io/lora-weights.js";
import { straightAndResumed, type EventLine } from "../helpers/resume-twin.js";
import { TINY_MODEL } from "../helpers/tiny-model.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-ddpo-e2e-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const reward = fileURLToPath(new URL("../../../test/fixtures/ddpo/brightness-values.mjs", import.meta.url));

const metricsOf = (events: EventLine[]) => events.flatMap((e) => (e.metrics ? [e.metrics] : []));

test("train --algorithm ddpo runs DDPO in the trainer process on a reward without a gradient, exports the LoRA file, and resumes exactly", async () => {
  const common = ["--runs_dir", join(dir, "runs"), "--model", TINY_MODEL, "--algorithm", "ddpo", "--reward", reward, "--prompts", "shapes",
    "--sample_num_steps", "2", "--sample_batch_size", "2", "--train_batch_size", "2", "--train_learning_rate", "0.01",
    "--per_prompt_stat_tracking", "true", "--per_prompt_stat_tracking_min_count", "2", "--save_freq", "2", "--seed", "4"];

  const { straightDir: runDir, straight, resumed, straightCi } = await straightAndResumed(join(dir, "runs"), common, 4);
  assert.match(straight.find((e) => e.status?.message?.includes("reward"))!.status!.message!, /DDPO on .*tiny-sd \(LoRA r=4, \d+ params; reward .*brightness-values\.mjs\)/);
  const epochs = metricsOf(straight);
  assert.equal(epochs.length, 4);
  assert.ok(epochs.every((m) => Number.isFinite(m.loss) && m.gradNorm > 0 && m.rewardMean > 0 && m.rewardMean < 1), JSON.stringify(epochs));
  const lora = await readLoraWeights(join(runDir, "pytorch_lora_weights.safetensors"));
  assert.equal(lora.rank, 4);
  assert.ok(lora.layers.size > 0, "diffusers' LoRA file is in the run directory");
  assert.deepEqual(metricsOf(resumed).map((m) => [m.loss, m.rewardMean]), epochs.map((m) => [m.loss, m.rewardMean]),
    "2 epochs + resume for 2 more = 4 uninterrupted epochs, bit for bit");

  // TRL's approx_kl and clipfrac reach the log, --ci and the report as Metrics.scalars.
  for (const m of epochs) {
    assert.deepEqual(Object.keys(m.scalars ?? {}).sort(), ["approx_kl", "clip_fraction"], JSON.stringify(m));
    assert.ok(m.scalars!.approx_kl! >= 0 && m.scalars!.clip_fraction! >= 0 && m.scalars!.clip_fraction! <= 1, JSON.stringify(m));
  }
  const ciMetrics = straightCi.stdout.trim().split("\n").map((l) => JSON.parse(l) as EventLine).flatMap((e) => (e.metrics ? [e.metrics] : []));
  assert.deepEqual(ciMetrics.map((m) => m.scalars), epochs.map((m) => m.scalars), "--ci prints each step's scalars");
  assert.match(straightCi.stderr, /step 4\/4 loss \S+ reward \S+  approx_kl \S+  clip_fraction \S+/);
  const report = readFileSync(join(runDir, "report.html"), "utf8");
  assert.match(report, /data-chart="scalar-approx_kl"/);
  assert.match(report, /data-chart="scalar-clip_fraction"/);
});
