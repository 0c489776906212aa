/**
 * A lock between alignprop processes (two trainers fetching the same new model at once): a lock file created
 * exclusively, naming its holder (pid, host), whose mtime the holder refreshes while it works. Another process waits
 * for it to go; a lock whose holder is gone is taken over: on the same host a pid that no longer runs, anywhere a
 * file not refreshed for STALE_MS (a crashed process on another machine sharing the cache).
 */
import { mkdir, open, readFile, rm, stat, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";

/** A lock file not refreshed for this long has lost its holder. */
export const STALE_MS = 30_000;
/** How often the holder refreshes its lock file (well inside STALE_MS). */
const REFRESH_MS = 5_000;
/** How often a waiting process looks again. */
const POLL_MS = 100;

interface Holder {
  pid: number;
  host: string;
}

const describe = (h: Holder | undefined) => (h ? `process ${h.pid} on ${h.host}` : "another process");

/**
 * Runs `fn` holding the lock file `lockPath` (created with its folder; removed afterwards). While another process
 * holds it, waits, calling `onWait` once with a description of the holder.
 */
export async function withFileLock<T>(lockPath: string, onWait: (holder: string) => void, fn: () => Promise<T>): Promise<T> {
  await mkdir(dirname(lockPath), { recursive: true });
  const me: Holder = { pid: process.pid, host: hostname() };
  let announced = false;
  for (;;) {
    const handle = await open(lockPath, "wx").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EEXIST") return undefined;
      throw new Error(`cannot create the lock file ${lockPath}: ${error.message}`);
    });
    if (handle) {
      try {
        await handle.writeFile(JSON.stringify(me));
      } finally {
        await handle.close();
      }
      break;
    }
    const holder = await readHolder(lockPath);
    if (await isStale(lockPath, holder)) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (!announced) onWait(describe(holder));
    announced = true;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const refresh = setInterval(() => {
    const now = new Date();
    utimes(lockPath, now, now).catch(() => {});
  }, REFRESH_MS);
  refresh.unref();
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    await rm(lockPath, { force: true });
  }
}

/** The holder the lock file names; undefined while it is being written (or unreadable). */
async function readHolder(lockPath: string): Promise<Holder | undefined> {
  try {
    const raw = JSON.parse(await readFile(lockPath, "utf8")) as Partial<Holder>;
    return typeof raw.pid === "number" && typeof raw.host === "string" ? { pid: raw.pid, host: raw.host } : undefined;
  } catch {
    return undefined;
  }
}

async function isStale(lockPath: string, holder: Holder | undefined): Promise<boolean> {
  if (holder && holder.host === hostname() && !isRunning(holder.pid)) return true;
  const mtime = await stat(lockPath).then((s) => s.mtimeMs, () => undefined);
  return mtime !== undefined && Date.now() - mtime > STALE_MS;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // it runs, as another user
  }
}
