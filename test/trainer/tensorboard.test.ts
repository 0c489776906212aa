/**
 * `log_with: "tensorboard"` on the TF.js engine, end to end: a real trainer writes `<logdir>/<run name>/` event files
 * that TensorBoard's own EventAccumulator reads with every step's scalars (the values events.jsonl has), the logged
 * images tagged `prompt | reward` at their steps, and the config; a run killed and resumed shows every step once.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, test } from "node:test";
import { prepareRun } from "../../src/run/index.js";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { imageTag } from "../../src/io/tensorboard/run-log.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { closeTo as close, readWithTensorBoard } from "../helpers/trackers.js";
import { TINY_RUN } from "../helpers/tiny-model.js";

const runs = tempRuns();
after(() => runs.cleanup());

type Line = { metrics?: { step: number; loss: number; rewardMean: number }; images?: { step: number; images: Array<{ prompt: string; reward: number }> } };

const readLog = (runDir: string) => readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);

async function runToEnd(configPath: string, resume?: string) {
  const trainer = await runs.spawn({ configPath, resume });
  await new EventTap(trainer.client).ended;
  assert.equal((await trainer.exit).exitCode, 0);
}

test("a TF.js run's TensorBoard files hold every step's scalars, the captioned images and the config", async () => {
  const logdir = join(runs.dir, "logs");
  const evaluation = { eval_freq: "3", eval_prompts: "a red circle", eval_seeds: "0,1", eval_monitors: "reward,diversity" };
  const run = prepareRun(undefined, { runs_dir: runs.dir, ...TINY_RUN, num_epochs: "6", log_image_freq: "3", log_with: "tensorboard", logdir, ...evaluation });
  await runToEnd(run.configPath);

  const tb = readWithTensorBoard(join(logdir, basename(run.runDir)));
  const log = readLog(run.runDir);
  const metrics = log.flatMap((l) => (l.metrics ? [l.metrics] : []));
  assert.deepEqual(tb.scalars.loss!.map(([s]) => s), [1, 2, 3, 4, 5, 6]);
  for (const m of metrics) {
    assert.ok(close(tb.scalars.loss!.find(([s]) => s === m.step)![1], m.loss), `loss at step ${m.step}`);
    assert.ok(close(tb.scalars.reward_mean!.find(([s]) => s === m.step)![1], m.rewardMean), `reward_mean at step ${m.step}`);
  }
  for (const tag of ["reward_std", "reward_min", "reward_max", "grad_norm", "lr", "samples_per_second"]) assert.equal(tb.scalars[tag]?.length, 6, tag);
  const logged = log.flatMap((l) => (l.images ? l.images.images.map((im) => ({ step: l.images!.step, tag: imageTag(im.prompt, im.reward) })) : []));
  assert.deepEqual([...new Set(logged.map((x) => x.step))], [3, 6]);
  for (const { step, tag } of logged) assert.ok(tb.images[tag]?.some(([s]) => s === step), `image "${tag}" at step ${step}`);
  assert.match(tb.text.config![0]![1], /\| log_with \| "tensorboard" \|/);
  // The evaluations' monitors under eval/, at the eval steps (0: the base model).
  for (const tag of ["eval/reward", "eval/diversity"]) assert.deepEqual(tb.scalars[tag]?.map(([s]) => s), [0, 3, 6], tag);
});

test("a run killed after its checkpoint and resumed shows every step once in TensorBoard, with the resumed values", async () => {
  const logdir = join(runs.dir, "logs-resumed");
  const overrides = { runs_dir: runs.dir, ...TINY_RUN, num_epochs: "12", save_freq: "4", log_with: "tensorboard", logdir };
  const crashed = prepareRun(undefined, overrides);
  const trainer = await runs.spawn({ configPath: crashed.configPath });
  const tap = new EventTap(trainer.client);
  await tap.until((e) => e.payload.case === "checkpoint" && e.payload.value.step === 4, "the checkpoint at step 4");
  await trainer.client.pause();
  await tap.untilState(RunState.PAUSED);
  trainer.process.kill("SIGKILL");
  await trainer.exit;

  const resumed = prepareRun(undefined, { resume_from: crashed.runDir });
  await runToEnd(resumed.configPath, resumed.checkpoint);
  const tb = readWithTensorBoard(join(logdir, basename(crashed.runDir)));
  const steps = tb.scalars.loss!.map(([s]) => s);
  assert.deepEqual(steps, Array.from({ length: 12 }, (_, i) => i + 1), "every step once");
  const metrics = readLog(crashed.runDir).flatMap((l) => (l.metrics ? [l.metrics] : []));
  for (const m of metrics) assert.ok(close(tb.scalars.loss!.find(([s]) => s === m.step)![1], m.loss), `loss at step ${m.step}`);
});
