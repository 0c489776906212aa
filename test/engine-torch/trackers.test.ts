/**
 * `log_with` on the torch engine, end to end: `alignprop train --engine torch` (tiny-shapes, 3 steps, CPU) logs through
 * accelerate's trackers, and each tracker's own reader finds every scalar the TF.js engine's TensorBoard writer logs
 * (run-log.ts's metricScalars names, events.jsonl's values) at its step, and the images of every log_image_freq-th
 * step captioned `prompt | reward` (run-log.ts's imageTag): TensorBoard under logdir/<run name>, wandb offline
 * (WANDB_MODE=offline) under logdir/wandb in the project tracker_project_name. Two torch processes in all.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { EvalResult, ImageBatch, Metrics } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { imageTag, metricScalars } from "../../src/io/tensorboard/run-log.js";
import { readEventsLog, runFiles } from "../../src/run/index.js";
import { alignprop } from "../helpers/cli.js";
import { closeTo, readWandbRuns, readWithTensorBoard } from "../helpers/trackers.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-torch-trackers-"));
after(() => rmSync(root, { recursive: true, force: true }));
const logdir = join(root, "logs");

/** Trains 3 steps (images at step 2) and returns what events.jsonl says was published. */
async function train(runName: string, flags: string[], env: Record<string, string> = {}) {
  const r = await alignprop(
    [
      "train", "--ci", "--engine", "torch", "--model", "tiny-shapes", "--train_batch_size", "1", "--sample_num_steps", "2",
      "--truncated_backprop_timestep", "1", "--truncated_rand_backprop_minmax", "[0,2]", "--num_epochs", "3",
      "--log_image_freq", "2", "--save_freq", "1000", "--runs_dir", root, "--run_name", runName, "--logdir", logdir, ...flags,
    ],
    { env },
  );
  assert.equal(r.exitCode, 0, String(r.stderr));
  const { events } = await readEventsLog(runFiles(join(root, runName)).events);
  const metrics: Metrics[] = events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value] : []));
  const images: ImageBatch[] = events.flatMap((e) => (e.payload.case === "images" ? [e.payload.value] : []));
  const evals: EvalResult[] = events.flatMap((e) => (e.payload.case === "eval" ? [e.payload.value] : []));
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3]);
  assert.deepEqual(images.map((b) => b.step), [2]);
  return { metrics, images, evals };
}

test("--engine torch --log_with tensorboard: TensorBoard's reader finds every scalar at its step and the captioned images", async () => {
  // A two-sample eval set every 2 steps: its monitors go to the tracker as eval/<name>, as the TF.js engine logs them.
  const evalFlags = ["--eval_freq", "2", "--eval_prompts", "a red circle", "--eval_seeds", "0,1"];
  const { metrics, images, evals } = await train("tb", ["--log_with", "tensorboard", ...evalFlags]);
  const tb = readWithTensorBoard(join(logdir, "tb"));
  assert.deepEqual(evals.map((e) => e.step), [0, 2, 3]);
  for (const e of evals) {
    for (const [name, value] of Object.entries(e.monitors)) {
      const logged = tb.scalars[`eval/${name}`]?.filter(([step]) => step === e.step) ?? [];
      assert.ok(logged.length === 1 && closeTo(logged[0]![1], value), `eval/${name} at step ${e.step}`);
    }
  }
  const evalTags = Object.keys(evals[0]!.monitors).map((name) => `eval/${name}`);

  for (const m of metrics) {
    for (const [name, value] of Object.entries(metricScalars(m))) {
      const logged = tb.scalars[name]?.filter(([step]) => step === m.step) ?? [];
      assert.equal(logged.length, 1, `${name} once at step ${m.step}`);
      assert.ok(closeTo(logged[0]![1], value), `${name} at step ${m.step}: ${logged[0]![1]} vs ${value}`);
    }
  }
  assert.deepEqual(Object.keys(tb.scalars).sort(), [...Object.keys(metricScalars(metrics[0]!)), ...evalTags].sort());
  for (const im of images[0]!.images) {
    assert.deepEqual(tb.images[imageTag(im.prompt, im.reward)]?.map(([step, w, h]) => [step, w, h]), [[2, im.width, im.height]]);
  }
  // accelerate's store_init_configuration: the run config as hparams, and as YAML beside them.
  const hparams = readdirSync(join(logdir, "tb")).map((d) => join(logdir, "tb", d, "hparams.yml")).filter(existsSync);
  assert.equal(hparams.length, 1);
  assert.match(readFileSync(hparams[0]!, "utf8"), /^log_with: tensorboard$/m);
});

test("--engine torch --log_with wandb (offline): the run's history holds every scalar at its step and the captioned images", async () => {
  const { metrics, images } = await train("wb", ["--eval_freq", "0", "--log_with", "wandb", "--tracker_project_name", "shapes", "--tracker_kwargs", '{"wandb": {"tags": ["tiny"]}}'], {
    WANDB_MODE: "offline",
  });
  const [run, ...others] = readWandbRuns(logdir);
  assert.equal(others.length, 0);
  assert.deepEqual([run!.project, run!.name, run!.tags, run!.config.log_with, run!.config.num_epochs], ["shapes", "wb", ["tiny"], "wandb", 3]);
  assert.deepEqual(run!.history.map((row) => row._step), [1, 2, 3]);
  for (const m of metrics) {
    const row = run!.history.find((r) => r._step === m.step)!;
    for (const [name, value] of Object.entries(metricScalars(m))) assert.ok(closeTo(row[name] as number, value), `${name} at step ${m.step}`);
  }
  const captions = images[0]!.images.map((im) => imageTag(im.prompt, im.reward));
  assert.deepEqual(run!.history.find((r) => r._step === 2)!["images/captions"], captions);
  assert.equal(run!.media.length, captions.length);
});
