/** The image hook (TRL's image_samples_hook): called with every logged batch; a bad module stops the run before training. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { alignprop } from "../helpers/cli.js";
import { tempRuns } from "../helpers/runs.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const runs = tempRuns();
after(() => runs.cleanup());
const hook = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/hooks/${name}`, import.meta.url));

test("image_hook receives {step, images, prompts, prompt_metadata, rewards, run_dir} every log_image_freq steps", async () => {
  const r = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs.dir, "--run_name", "hooked", "--num_epochs", "10",
    "--log_image_freq", "5", "--train_batch_size", "3", "--image_hook", hook("record-batches.mjs")]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const calls = readFileSync(join(runs.dir, "hooked", "hook-calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(calls.map((c) => c.step), [5, 10]);
  for (const c of calls) {
    assert.equal(c.prompts.length, 3);
    assert.deepEqual(c.pngs, [true, true, true]);
    assert.ok(c.rewards.every((x: number) => x >= 0 && x <= 1));
    assert.ok(c.meta.every((m: { colour?: string }) => typeof m.colour === "string"));
  }
});

test("an image_hook that does not export a function is a clear error naming the field, before any step", async () => {
  const r = await alignprop(["train", "--ci", ...TINY_RUN_FLAGS, "--runs_dir", runs.dir, "--num_epochs", "10", "--image_hook", hook("not-a-function.mjs")]);
  assert.notEqual(r.exitCode, 0);
  assert.match(String(r.stderr), /image_hook=".*not-a-function\.mjs" must export a default function/);
  assert.doesNotMatch(String(r.stdout), /"metrics"/);
});
