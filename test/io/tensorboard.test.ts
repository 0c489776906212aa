/**
 * TensorBoard event files written by alignprop are read back by TensorBoard's own EventAccumulator (the `tensorboard`
 * package in the project's Python environment): every scalar, image and text at the right step with the right value,
 * and a resumed writer supersedes the steps it re-does instead of duplicating them.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { encodePng } from "../../src/io/png.js";
import { crc32c, maskedCrc32c } from "../../src/io/tensorboard/crc32c.js";
import { create } from "@bufbuild/protobuf";
import { MetricsSchema } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { configMarkdown, imageTag, metricScalars } from "../../src/io/tensorboard/run-log.js";
import { TensorBoardWriter } from "../../src/io/tensorboard/writer.js";
import { projectPython, PYTHON_DIR } from "../../src/python/env.js";

const work = mkdtempSync(join(tmpdir(), "alignprop-tb-"));
after(() => rmSync(work, { recursive: true, force: true }));

interface Read {
  scalars: Record<string, Array<[number, number]>>;
  images: Record<string, Array<[number, number, number, string]>>;
  text: Record<string, Array<[number, string]>>;
}

function readWithTensorBoard(dir: string): Read {
  const r = spawnSync(projectPython(), [join(PYTHON_DIR, "tools", "read_tensorboard.py"), dir], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Read;
}

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

test("CRC-32C matches the standard check value and TFRecord's masking", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  const crc = 0xe3069283;
  assert.equal(maskedCrc32c(new TextEncoder().encode("123456789")), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test("scalars, captioned images and the config text read back at their steps with their values", () => {
  const dir = join(work, "plain");
  const writer = TensorBoardWriter.open(dir);
  const png = encodePng({ width: 2, height: 3, rgb: Uint8Array.from({ length: 18 }, (_, i) => i * 14) });
  const config = { train_learning_rate: 0.002, reward_fn: "tiny-aesthetic", truncated_rand_backprop_minmax: [0, 50] };
  writer.text(0, "config", configMarkdown(config));
  for (const step of [1, 2, 3]) writer.scalars(step, { loss: -step / 10, reward_mean: 0.5 + step / 100 });
  const tag = imageTag("a red circle, large, in the centre on white", 0.8765);
  writer.images(2, [{ tag, png, width: 2, height: 3 }]);
  writer.close();

  assert.equal(tag, "a red circle, large, in t | 0.88");
  const read = readWithTensorBoard(dir);
  assert.deepEqual(Object.keys(read.scalars).sort(), ["loss", "reward_mean"]);
  assert.deepEqual(read.scalars.loss!.map(([s]) => s), [1, 2, 3]);
  read.scalars.loss!.forEach(([s, v]) => assert.ok(Math.abs(v - -s / 10) < 1e-7, `loss at ${s}: ${v}`));
  read.scalars.reward_mean!.forEach(([s, v]) => assert.ok(Math.abs(v - (0.5 + s / 100)) < 1e-7));
  assert.deepEqual(read.images, { [tag]: [[2, 2, 3, sha256(png)]] });
  assert.deepEqual(read.text.config, [[0, configMarkdown(config)]]);
});

test("a writer resumed at step 4 supersedes what the first file logged from step 4 on: every step once", () => {
  const dir = join(work, "resumed");
  const first = TensorBoardWriter.open(dir, { now: () => 1_700_000_000 });
  for (let step = 1; step <= 5; step++) first.scalars(step, { loss: step });
  first.close();
  const second = TensorBoardWriter.open(dir, { restartAtStep: 4, now: () => 1_700_000_100 });
  for (let step = 4; step <= 6; step++) second.scalars(step, { loss: 100 + step });
  second.close();

  assert.equal(readdirSync(dir).length, 2);
  const read = readWithTensorBoard(dir);
  assert.deepEqual(read.scalars.loss, [[1, 1], [2, 2], [3, 3], [4, 104], [5, 105], [6, 106]]);
});

test("a Metrics event's scalars are TRL's names plus the algorithm's own (DDPO's approx_kl and clip_fraction)", () => {
  const scalars = metricScalars(create(MetricsSchema, { step: 3, loss: 0.5, rewardMean: 0.25, scalars: { approx_kl: 0.001, clip_fraction: 0.5 } }));
  assert.equal(scalars.loss, 0.5);
  assert.equal(scalars.reward_mean, 0.25);
  assert.equal(scalars.approx_kl, 0.001);
  assert.equal(scalars.clip_fraction, 0.5);
});
