/**
 * Crash-safe writes: content goes to a temporary sibling, is fsynced, then renamed over the target, so a reader (or a
 * resumed run) sees either the old version or the new one, never half of one.
 */
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join, basename } from "node:path";

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const handle = await open(tmp, "w");
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await fsyncPath(dirname(path), "r");
}

/**
 * Builds a directory through `fill(tmpDir)` and renames it into place at `path` (which must not exist yet).
 * A crash leaves only a `.tmp-*` directory, which the next save removes.
 */
export async function writeDirAtomic(path: string, fill: (dir: string) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await fill(tmp);
  await fsyncPath(tmp, "r");
  await rename(tmp, path);
  await fsyncPath(dirname(path), "r");
}
