/**
 * The committed embedded default, models/tiny-shapes: small enough to ship, loadable as a real diffusers checkpoint,
 * drawing the prompted colour (checked afresh here by the held-out pixel classifier), and its two learned rewards
 * judging the world the way they were trained to.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { caption, renderScene, WORLD_SIZE, type Scene } from "../../src/data/shapes-world.js";
import { embeddedModel, TINY_SHAPES } from "../../src/models/embedded.js";
import { disposePipeline, loadPipeline, type Pipeline } from "../../src/models/pipeline.js";
import { evaluateColours } from "../../src/pretrain/evaluate.js";
import { resolveReward } from "../../src/rewards/registry.js";
import { scoreImages, type Reward } from "../../src/rewards/reward.js";
import { initBackend } from "../../src/tf/backend.js";

const model = embeddedModel(TINY_SHAPES)!;
let pipeline: Pipeline;
before(async () => {
  await initBackend("wasm-ort");
  pipeline = await loadPipeline(model.dir);
});
after(() => disposePipeline(pipeline));

function folderBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? folderBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

test("models/tiny-shapes is at most 25 MB, made by the full recipe in at most 90 minutes, its evaluation recorded", () => {
  const bytes = folderBytes(model.dir);
  assert.ok(bytes <= 25 * 1024 * 1024, `${(bytes / 1024 / 1024).toFixed(1)} MB`);
  const record = JSON.parse(readFileSync(join(model.dir, "pretrain.json"), "utf8")) as { seconds: { total: number }; evaluation: { accuracy: number; samples: number }; recipe: { scale: number } };
  assert.equal(record.recipe.scale, 1, "the full recipe");
  assert.ok(record.seconds.total <= 90 * 60, `${record.seconds.total} s`);
  assert.equal(record.evaluation.samples, 96);
  assert.ok(record.evaluation.accuracy >= 0.7, `recorded colour accuracy ${record.evaluation.accuracy}`);
  assert.match(readFileSync(join(model.dir, "README.md"), "utf8"), new RegExp(`\\*\\*${(100 * record.evaluation.accuracy).toFixed(1)}%\\*\\*`));
});

/** The bar is 70%: the committed model measured 87.5% at pretraining (pretrain.json) and 89.6% on these seeds. */
test("samples of the committed pipeline show the prompted colour at least 70% of the time (fresh seeds, held-out classifier)", () => {
  const before = tf.memory().numTensors;
  const e = evaluateColours(pipeline, { samples: 48, seed: 12345 });
  assert.ok(e.accuracy >= 0.7, `accuracy ${e.accuracy}: ${JSON.stringify(e.perColour)}`);
  assert.equal(tf.memory().numTensors, before);
});

const base: Scene = { colour: "red", shape: "circle", size: "large", position: "centre", background: "blue", cx: 16, cy: 16, radius: 10 };

function score(reward: Reward, scenes: Scene[], prompts: string[]): number[] {
  return tf.tidy(() => {
    const pixels = new Float32Array(scenes.length * WORLD_SIZE * WORLD_SIZE * 3);
    scenes.forEach((s, i) => pixels.set(renderScene(s), i * WORLD_SIZE * WORLD_SIZE * 3));
    const images = tf.tensor4d(pixels, [scenes.length, WORLD_SIZE, WORLD_SIZE, 3]);
    return [...scoreImages(reward, images, prompts, prompts.map(() => ({}))).rewards.dataSync()];
  });
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const COLOURS = ["red", "green", "yellow", "cyan", "magenta", "orange", "white"] as const;

test("tiny-aesthetic is differentiable and prefers large centred shapes to small ones in a corner", async () => {
  const reward = await resolveReward("tiny-aesthetic");
  assert.equal(reward.info.differentiable, true);
  assert.equal(reward.info.name, "tiny-aesthetic");
  const good = COLOURS.map((colour) => ({ ...base, colour }));
  const bad = good.map((s) => ({ ...s, size: "small" as const, radius: 5, position: "bottom right" as const, cx: 22.4, cy: 22.4 }));
  const prompts = good.map((s) => caption(s, {}));
  assert.ok(mean(score(reward, good, prompts)) > mean(score(reward, bad, prompts)) + 0.1);
  // Gradient reaches the pixels.
  const g = tf.tidy(() => {
    const x = tf.tensor4d(renderScene(base), [1, WORLD_SIZE, WORLD_SIZE, 3]);
    return tf.grad((img: tf.Tensor) => tf.sum(reward.score(img as tf.Tensor4D, ["a red circle"], [{}]).rewards))(x).abs().sum().dataSync()[0]!;
  });
  assert.ok(g > 0);
});

test("tiny-clip-score rates an image's own caption above the same caption with another colour", async () => {
  const reward = await resolveReward("tiny-clip-score");
  assert.equal(reward.info.differentiable, true);
  const scenes = COLOURS.map((colour) => ({ ...base, colour }));
  const right = score(reward, scenes, scenes.map((s) => caption(s)));
  const wrong = score(reward, scenes, scenes.map((s, i) => caption({ ...s, colour: COLOURS[(i + 3) % COLOURS.length]! })));
  const wins = right.filter((r, i) => r > wrong[i]!).length;
  assert.ok(wins >= 6, `own caption won ${wins}/7: ${right} vs ${wrong}`);
});
