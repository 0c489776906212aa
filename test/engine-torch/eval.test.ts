/**
 * `alignprop train --engine torch` evaluates as the TF.js engine does (src/eval/, python/alignprop_torch/eval/): a
 * real three-step run (tiny-shapes, a two-step DDIM chain, CPU) with eval_freq=2 logs `eval` events after steps 0, 2
 * and 3 with the eval PNGs and their seeded captions in images/eval/step-<N>/, keeps best/ by best_metric, and the TS
 * monitors, run on the PNGs the torch engine saved, give the values the torch engine reported.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseShapePrompt } from "../../src/data/shape-prompts.js";
import { loadMonitors } from "../../src/eval/monitors/registry.js";
import { imagesToFloats } from "../../src/io/png.js";
import { readEvalImages, readEventsLog, runFiles } from "../../src/run/index.js";
import { alignprop } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-torch-eval-"));
after(() => rmSync(root, { recursive: true, force: true }));

const PROMPTS = ["a red circle", "a blue square"];
const SEEDS = [0, 5];

test("train --engine torch: eval events at 0, eval_freq and the last step, eval PNGs, best/, monitors the TS side agrees with", async () => {
  const run = await alignprop([
    "train", "--ci", "--engine", "torch", "--model", "tiny-shapes", "--num_epochs", "3", "--train_batch_size", "1",
    "--sample_num_steps", "2", "--truncated_backprop_timestep", "1", "--truncated_rand_backprop_minmax", "[0,2]",
    "--save_freq", "100", "--log_image_freq", "100", "--eval_freq", "2", "--eval_prompts", PROMPTS.join(","),
    "--eval_seeds", SEEDS.join(","), "--per_device_eval_batch_size", "3", "--best_metric", "reward",
    "--runs_dir", root, "--run_name", "eval-run",
  ]);
  assert.equal(run.exitCode, 0, String(run.stderr));
  assert.doesNotMatch(String(run.stderr), /ignored/);
  const runDir = join(root, "eval-run");
  const log = await readEventsLog(runFiles(runDir).events);
  const evals = log.events.flatMap((e) => (e.payload.case === "eval" ? [e.payload.value] : []));
  assert.deepEqual(evals.map((e) => e.step), [0, 2, 3]);

  const monitors = await loadMonitors(["reward", "shape-fidelity", "diversity", "drift"]);
  const base = imagesToFloats((await readEvalImages(runDir, 0))!);
  const prompts = PROMPTS.flatMap((p) => SEEDS.map(() => p));
  for (const e of evals) {
    assert.deepEqual(e.seeds, [...SEEDS, ...SEEDS]);
    assert.deepEqual(e.images!.images.map((i) => i.path), [0, 1, 2, 3].map((i) => `images/eval/step-${e.step}/${i}.png`));
    const captions = JSON.parse(readFileSync(join(runDir, "images", "eval", `step-${e.step}`, "captions.json"), "utf8"));
    assert.deepEqual(captions.map((c: { prompt: string; seed: number }) => [c.prompt, c.seed]), prompts.map((p, i) => [p, e.seeds[i]]));
    // The same definitions on both engines: the TS monitors on the saved PNGs give the torch engine's values.
    const images = (await readEvalImages(runDir, e.step))!;
    const samples = {
      prompts,
      metadata: prompts.map(parseShapePrompt),
      pixels: imagesToFloats(images),
      height: images[0]!.height,
      width: images[0]!.width,
      rewards: captions.map((c: { reward: number }) => c.reward),
      base,
    };
    const expected: Record<string, number> = Object.assign({}, ...monitors.map((m) => m.measure(samples)));
    assert.deepEqual(Object.keys(e.monitors).sort(), Object.keys(expected).sort());
    for (const [name, value] of Object.entries(expected)) assert.ok(Math.abs(e.monitors[name]! - value) < 1e-9, `${name} at ${e.step}: ${e.monitors[name]} vs ${value}`);
  }
  assert.equal(evals[0]!.monitors.drift, 0);

  const best = JSON.parse(readFileSync(join(runDir, "best", "best.json"), "utf8"));
  const top = evals.reduce((a, b) => (b.monitors.reward! > a.monitors.reward! ? b : a));
  assert.deepEqual([best.step, best.metric, best.value], [top.step, "reward", top.monitors.reward]);
  assert.ok(existsSync(join(runDir, "best", "pytorch_lora_weights.safetensors")));
  const announced = log.events.flatMap((e) => (e.payload.case === "checkpoint" && e.payload.value.reason === "best" ? [e.payload.value.step] : []));
  assert.equal(announced.at(-1), best.step);
});
