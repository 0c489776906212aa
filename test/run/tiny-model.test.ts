/** The committed tiny pipeline the trainer-process tests train is the one test/helpers/tiny-model.ts writes. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, test } from "node:test";
import { TINY_MODEL, writeTinyModel } from "../helpers/tiny-model.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-tiny-model-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const files = (root: string): string[] =>
  readdirSync(root).flatMap((name) => (statSync(join(root, name)).isDirectory() ? files(join(root, name)) : [join(root, name)]));

test("test/fixtures/pipeline/tiny-sd is current: regenerating it gives the same files, byte for byte", async () => {
  const fresh = join(dir, "tiny-sd");
  await writeTinyModel(fresh);
  const names = (root: string) => files(root).map((f) => relative(root, f)).sort();
  assert.deepEqual(names(TINY_MODEL), names(fresh));
  for (const name of names(fresh)) {
    assert.ok(readFileSync(join(TINY_MODEL, name)).equals(readFileSync(join(fresh, name))), `${name} differs: run node dist/test/helpers/tiny-model.js`);
  }
});
