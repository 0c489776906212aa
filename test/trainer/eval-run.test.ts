/** A short real run that evaluates: eval events on the wire (--ci), in events.jsonl, the eval images, best/ and the report. */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { readEventsLog } from "../../src/run/index.js";
import { alignprop } from "../helpers/cli.js";
import { tempRuns } from "../helpers/runs.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("a run with eval_freq evaluates at step 0, every eval_freq steps and at the end, and keeps the best by best_metric", async () => {
  const r = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs.dir, "--run_name", "evaluated", "--num_epochs", "3",
    "--eval_freq", "2", "--eval_prompts", "a red circle,a blue square", "--eval_seeds", "0,1", "--per_device_eval_batch_size", "3",
    "--eval_monitors", "reward,shape-fidelity,diversity,drift", "--best_metric", "reward"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const dir = join(runs.dir, "evaluated");

  // --ci: one JSON line per eval event, PNG bytes replaced by their length; a summary line on stderr.
  const wire = String(r.stdout).trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.eval);
  assert.deepEqual(wire.map((e) => e.eval.step ?? 0), [0, 2, 3]);
  for (const { eval: e } of wire) {
    assert.deepEqual(e.seeds, [0, 1, 0, 1]);
    assert.deepEqual(e.images.images.map((i: { prompt: string }) => i.prompt), ["a red circle", "a red circle", "a blue square", "a blue square"]);
    assert.ok(e.images.images.every((i: { pngBytes: number }) => i.pngBytes > 0));
    assert.deepEqual(Object.keys(e.monitors).sort(), ["diversity", "drift", "fidelity", "fidelity_colour", "fidelity_shape", "reward"]);
  }
  assert.equal(wire[0].eval.monitors.drift, 0, "the base model's samples are the drift reference");
  assert.ok(wire[2].eval.monitors.drift > 0, "training moved the samples");
  assert.match(String(r.stderr), /^eval at step 0: diversity \S+ {2}drift 0 {2}fidelity/m);

  // events.jsonl: the same events without pixels, each image's PNG under images/eval/step-<N>/.
  const logged = (await readEventsLog(join(dir, "events.jsonl"))).events.flatMap((e) => (e.payload.case === "eval" ? [e.payload.value] : []));
  assert.deepEqual(logged.map((e) => e.step), [0, 2, 3]);
  for (const e of logged) {
    assert.ok(e.images!.images.every((i, k) => i.png.byteLength === 0 && i.path === `images/eval/step-${e.step}/${k}.png` && existsSync(join(dir, i.path))));
  }

  // best/: the evaluation with the highest eval reward, its LoRA file beside best.json.
  const rewards = logged.map((e) => e.monitors.reward!);
  const bestStep = logged[rewards.indexOf(Math.max(...rewards))]!.step;
  const best = JSON.parse(readFileSync(join(dir, "best", "best.json"), "utf8"));
  assert.equal(best.step, bestStep);
  assert.equal(best.metric, "reward");
  assert.ok(existsSync(join(dir, "best", "pytorch_lora_weights.safetensors")));
  assert.ok(existsSync(join(dir, "pytorch_lora_weights.safetensors")), "the last weights are still exported too");

  assert.match(readFileSync(join(dir, "report.html"), "utf8"), /<section id="eval"><h2>Evaluation<\/h2>/);

  // Resumed for one more step: no second base evaluation; drift from the base samples read back from images/eval/step-0.
  const resumed = await alignprop(["train", "--ci", "--resume", dir, "--num_epochs", "4"]);
  assert.equal(resumed.exitCode, 0, String(resumed.stderr));
  const more = String(resumed.stdout).trim().split("\n").map((l) => JSON.parse(l)).filter((e) => e.eval);
  assert.deepEqual(more.map((e) => e.eval.step), [4]);
  assert.ok(more[0].eval.monitors.drift > 0, "drift measured from the base samples on disk");
  const after = JSON.parse(readFileSync(join(dir, "best", "best.json"), "utf8"));
  assert.ok(after.value >= best.value, "the best carried over is replaced only by a better one");
});
