/**
 * The Hugging Face cache, in the layout huggingface_hub (`hf_hub_download`, `snapshot_download`, hence diffusers and
 * transformers) and @huggingface/hub write, so a model downloaded by any of them is found by the others:
 *
 *   <cache>/models--<org>--<name>/
 *     blobs/<etag>                      file contents, named by the Hub's ETag: sha256 for LFS files, git sha1 otherwise
 *     snapshots/<commit>/<repo path>    relative symlinks to ../../blobs/<etag> (a copy where links are not allowed)
 *     refs/<revision>                   the commit a branch or tag resolved to at the last download
 *   <cache>/.locks/models--<org>--<name>/<etag>.alignprop.lock
 *                                       held by the alignprop process downloading that blob (src/io/file-lock.ts;
 *                                       huggingface_hub keeps its own <etag>.lock files there)
 *
 * `<cache>` is, as huggingface_hub's constants.py decides it: $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else
 * `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` ("~" and "$VAR" expanded).
 * A snapshot file appears only once its blob is complete and verified, so what a snapshot holds is whole.
 */
import { copyFile, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, dirname, join, relative, sep } from "node:path";

import { writeFileAtomic } from "./atomic.js";
import { checkRevision } from "./hub-names.js";

const COMMIT = /^[0-9a-f]{40}$/;
/** A git sha1 (regular files) or a sha256 (LFS files): the only names a blob may have. */
const ETAG = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** huggingface_hub writes this tag so that backup tools skip the cache (Cache Directory Tagging Standard). */
const CACHEDIR_TAG =
  "Signature: 8a477f597d28d172789f06886806bc55\n" +
  "# This file is a cache directory tag created by huggingface_hub.\n" +
  "# For information about cache directory tags, see:\n" +
  "#\thttps://bford.info/cachedir/\n";

export const isCommitHash = (revision: string): boolean => COMMIT.test(revision);

/** The cache root, with huggingface_hub's precedence of HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE;
  if (explicit) return expandPath(explicit, env);
  return join(hfHome(env), "hub");
}

/** huggingface_hub's home (HF_HOME): `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  return expandPath(env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface"), env);
}

/** Python's `os.path.expandvars(os.path.expanduser(p))`: a leading "~", then $NAME and ${NAME} that are set. */
export function expandPath(path: string, env: NodeJS.ProcessEnv): string {
  const home = path === "~" || path.startsWith("~/") ? homedir() + path.slice(1) : path;
  return home.replace(/\$(\w+)|\$\{([^}]+)\}/g, (whole, bare: string | undefined, braced: string | undefined) => env[bare ?? braced!] ?? whole);
}

/** A repo path as a relative file path that stays inside the snapshot ("a/b.json"; no "..", no absolute path). */
function checkRepoPath(path: string): string {
  const parts = path.split("/");
  if (path.includes("\\") || /^[A-Za-z]:/.test(path) || parts.some((p) => p === "" || p === "." || p === "..")) {
    throw new Error(`repo path ${JSON.stringify(path)} is not a relative path inside the repo`);
  }
  return path;
}

/** One repo's folder in the cache. */
export class RepoCache {
  /** `<cache>/models--org--name` */
  readonly folder: string;

  constructor(
    readonly cacheDir: string,
    readonly repo: string,
  ) {
    this.folder = join(cacheDir, `models--${repo.split("/").join("--")}`);
  }

  /** The commit `revision` names locally: itself when it is a commit hash, else what refs/<revision> records. */
  async commitOf(revision: string): Promise<string | undefined> {
    if (isCommitHash(revision)) return revision;
    const recorded = await readFile(join(this.folder, "refs", checkRevision(revision)), "utf8").then((t) => t.trim(), () => undefined);
    return recorded !== undefined && isCommitHash(recorded) ? recorded : undefined;
  }

  /** Records that `revision` resolved to `commit` (nothing for a commit hash, which names itself). */
  async writeRef(revision: string, commit: string): Promise<void> {
    if (!isCommitHash(commit)) throw new Error(`${this.repo}@${revision} resolved to ${JSON.stringify(commit)}, which is not a commit hash`);
    if (revision === commit) return;
    const path = join(this.folder, "refs", checkRevision(revision));
    if ((await readFile(path, "utf8").catch(() => undefined)) !== commit) await writeFileAtomic(path, commit);
  }

  snapshot(commit: string): string {
    return join(this.folder, "snapshots", commit);
  }

  /** Where the snapshot of `commit` has (or will have) the repo file `path`. */
  snapshotFile(commit: string, path: string): string {
    return join(this.snapshot(commit), ...checkRepoPath(path).split("/"));
  }

  blob(etag: string): string {
    if (!ETAG.test(etag)) throw new Error(`${this.repo}: ${JSON.stringify(etag)} is not a file hash the Hub sends (git sha1 or sha256)`);
    return join(this.folder, "blobs", etag);
  }

  /** The lock file an alignprop process holds while it downloads blob `etag` (beside huggingface_hub's locks). */
  blobLock(etag: string): string {
    this.blob(etag); // the same check of the name
    return join(this.cacheDir, ".locks", basename(this.folder), `${etag}.alignprop.lock`);
  }

  /** The repo paths of the files the snapshot of `commit` holds (links whose blob is gone are not counted). */
  async snapshotFiles(commit: string): Promise<string[]> {
    const root = this.snapshot(commit);
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    const paths: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) continue;
      const file = join(entry.parentPath, entry.name);
      if (await stat(file).then((s) => s.isFile(), () => false)) paths.push(relative(root, file).split(sep).join("/"));
    }
    return paths.sort();
  }

  /**
   * Points snapshots/<commit>/<path> at blobs/<etag> with a relative link (so the cache can be moved), as
   * huggingface_hub does; where the file system refuses links, the blob is copied there instead.
   */
  async link(commit: string, path: string, etag: string): Promise<void> {
    const pointer = this.snapshotFile(commit, path);
    const blob = this.blob(etag);
    await mkdir(dirname(pointer), { recursive: true });
    await rm(pointer, { force: true });
    try {
      await symlink(relative(dirname(pointer), blob), pointer);
    } catch {
      await copyFile(blob, pointer);
    }
  }

  /** Creates the cache root's CACHEDIR.TAG if it has none (as huggingface_hub does before its first download). */
  async tagCacheDir(): Promise<void> {
    await mkdir(this.cacheDir, { recursive: true });
    await writeFile(join(this.cacheDir, "CACHEDIR.TAG"), CACHEDIR_TAG, { flag: "wx" }).catch(() => {});
  }
}
