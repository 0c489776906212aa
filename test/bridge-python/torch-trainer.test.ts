/**
 * The PyTorch trainer process (`python -m alignprop_torch.trainer`, AlignProp on diffusers + peft) behind the same
 * wire: spawned by spawnTrainer, driven by TrainerClient. Tiny-shapes, a two-step DDIM chain, batch 1, on the CPU.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { EventTap } from "../helpers/event-tap.js";
import { tempRuns } from "../helpers/runs.js";
import { pythonTorchTrainer, TORCH_TINY, tsJsonLine } from "./python-engine.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("the torch trainer loads while STARTING, trains AlignProp steps, pauses at a boundary, stops DONE, and logs the TS JSON", async () => {
  const run = runs.prepare({ ...TORCH_TINY, num_epochs: "1000", log_image_freq: "1" });
  const trainer = await runs.spawn({ configPath: run.configPath, ...pythonTorchTrainer() });
  const tap = new EventTap(trainer.client);
  const starting = await tap.untilState(RunState.STARTING, 120_000);
  assert.match(starting.payload.case === "status" ? starting.payload.value.backend : "", /^torch 2\.13\.0/);
  await tap.untilStep(1, 300_000);
  const images = await tap.until((e) => e.payload.case === "images", "the first image batch", 300_000);
  assert.ok(images.payload.case === "images");
  const image = images.payload.value.images[0]!;
  assert.equal(Buffer.from(image.png.subarray(1, 4)).toString(), "PNG");
  assert.ok(image.prompt.length > 0 && image.width > 0);

  assert.equal((await trainer.client.pause()).ok, true);
  const paused = await tap.untilState(RunState.PAUSED, 300_000);
  const pausedAt = paused.payload.case === "status" ? paused.payload.value.step : -1;
  assert.equal((await trainer.client.pause()).message, "already paused");
  assert.equal((await trainer.client.stop()).ok, true);
  await tap.untilState(RunState.DONE, 120_000);
  const exit = await trainer.exit;
  assert.equal(exit.exitCode, 0, exit.stderrTail);

  const steps = tap.metricsSteps();
  assert.deepEqual(steps, Array.from({ length: pausedAt }, (_, i) => i + 1));
  for (const e of tap.events) {
    if (e.payload.case === "metrics") assert.ok(Number.isFinite(e.payload.value.loss) && e.payload.value.rewardMean > 0);
  }
  assert.deepEqual(readFileSync(join(run.runDir, "events.jsonl"), "utf8").trimEnd().split("\n"), tap.events.map(tsJsonLine));
  const saved = tap.events.flatMap((e) => (e.payload.case === "checkpoint" ? [e.payload.value] : []));
  assert.deepEqual(saved.map((c) => [c.step, c.reason]), [[pausedAt, "final"]], "stop saves once, at the step it stopped");
  assert.ok(existsSync(join(run.runDir, "checkpoints", `checkpoint_${pausedAt}`, "state.json")));
});
