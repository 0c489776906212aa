import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { writeDirAtomic, writeFileAtomic } from "../../src/io/atomic.js";

const root = await mkdtemp(join(tmpdir(), "alignprop-atomic-"));
after(() => rm(root, { recursive: true, force: true }));
let n = 0;
const freshDir = async () => {
  const dir = join(root, `case-${n++}`);
  await mkdir(dir);
  return dir;
};

test("writeFileAtomic writes a new file", async () => {
  const dir = await freshDir();
  await writeFileAtomic(join(dir, "state.json"), '{"step":1}\n');
  assert.equal(await readFile(join(dir, "state.json"), "utf8"), '{"step":1}\n');
});

test("writeFileAtomic replaces the content of an existing file and leaves no temp file beside it", async () => {
  const dir = await freshDir();
  const path = join(dir, "events.json");
  await writeFile(path, "old content that is longer than the new one");
  await writeFileAtomic(path, "new");
  assert.equal(await readFile(path, "utf8"), "new");
  assert.deepEqual(await readdir(dir), ["events.json"]);
});

test("writeFileAtomic writes bytes unchanged", async () => {
  const dir = await freshDir();
  const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
  await writeFileAtomic(join(dir, "model.safetensors"), bytes);
  assert.deepEqual(new Uint8Array(await readFile(join(dir, "model.safetensors"))), bytes);
});

test("writeFileAtomic creates missing parent directories", async () => {
  const dir = await freshDir();
  const path = join(dir, "a", "b", "c.txt");
  await writeFileAtomic(path, "deep");
  assert.equal(await readFile(path, "utf8"), "deep");
});

test("writeDirAtomic puts the directory fill() built at the target and leaves no temp dir", async () => {
  const dir = await freshDir();
  const target = join(dir, "checkpoint_5");
  await writeDirAtomic(target, async (tmp) => {
    assert.notEqual(tmp, target, "fill() works elsewhere than the target");
    await writeFile(join(tmp, "model.safetensors"), "weights");
    await writeFile(join(tmp, "state.json"), "{}");
  });
  assert.deepEqual((await readdir(target)).sort(), ["model.safetensors", "state.json"]);
  assert.equal(await readFile(join(target, "model.safetensors"), "utf8"), "weights");
  assert.deepEqual(await readdir(dir), ["checkpoint_5"]);
});

test("writeDirAtomic leaves the target absent and passes the error on if fill() throws", async () => {
  const dir = await freshDir();
  const target = join(dir, "checkpoint_7");
  await assert.rejects(
    writeDirAtomic(target, async (tmp) => {
      await writeFile(join(tmp, "model.safetensors"), "half");
      throw new Error("disk full");
    }),
    { message: "disk full" },
  );
  assert.equal((await readdir(dir)).includes("checkpoint_7"), false);
});

test("writeDirAtomic starts from an empty temp dir even when a crashed attempt left one behind", async () => {
  const dir = await freshDir();
  const target = join(dir, "checkpoint_9");
  await assert.rejects(
    writeDirAtomic(target, async (tmp) => {
      await writeFile(join(tmp, "stale.bin"), "from the crashed attempt");
      throw new Error("crash");
    }),
  );
  await writeDirAtomic(target, async (tmp) => {
    await writeFile(join(tmp, "state.json"), "{}");
  });
  assert.deepEqual(await readdir(target), ["state.json"]);
  assert.deepEqual(await readdir(dir), ["checkpoint_9"]);
});
