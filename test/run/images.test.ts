/** Logged images: saved as images/step-<N>/<i>.png + captions.json, read back only as PNGs inside the run directory. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isPng } from "../../src/io/png.js";
import { readRunImage, saveStepImages } from "../../src/run/index.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-images-"));
after(() => rmSync(root, { recursive: true, force: true }));
const runDir = join(root, "run");
mkdirSync(runDir);

test("a step's images are PNGs at images/step-<N>/<i>.png with captions.json naming prompt, metadata and reward", async () => {
  const rgb = (v: number) => ({ width: 2, height: 1, rgb: new Uint8Array(6).fill(v) });
  const saved = await saveStepImages(runDir, 7, { images: [rgb(10), rgb(200)], prompts: ["a cat", "a dog"], promptMetadata: [{ animal: "cat" }, { animal: "dog" }], rewards: [0.25, 0.5] });
  assert.deepEqual(saved.map((s) => s.path), ["images/step-7/0.png", "images/step-7/1.png"]);
  assert.ok(isPng(readFileSync(join(runDir, "images/step-7/1.png"))));
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, "images/step-7/captions.json"), "utf8")), [
    { file: "0.png", prompt: "a cat", prompt_metadata: { animal: "cat" }, reward: 0.25 },
    { file: "1.png", prompt: "a dog", prompt_metadata: { animal: "dog" }, reward: 0.5 },
  ]);
  const read = await readRunImage(runDir, "images/step-7/./0.png");
  assert.ok(read.ok);
  assert.equal(read.path, "images/step-7/0.png", "the path comes back normalised");
});

test("a logged path outside the run directory, a missing file or a file that is not a PNG is refused with the reason", async () => {
  writeFileSync(join(root, "secret.png"), "outside");
  writeFileSync(join(runDir, "notes.png"), "not a png");
  assert.deepEqual(await readRunImage(runDir, "../secret.png"), { ok: false, reason: "not a path inside the run directory" });
  assert.deepEqual(await readRunImage(runDir, join(root, "secret.png")), { ok: false, reason: "not a path inside the run directory" });
  assert.deepEqual(await readRunImage(runDir, ""), { ok: false, reason: "not a path inside the run directory" });
  assert.deepEqual(await readRunImage(runDir, "images/step-9/0.png"), { ok: false, reason: "file not found" });
  assert.deepEqual(await readRunImage(runDir, "notes.png"), { ok: false, reason: "not a PNG file" });
});
