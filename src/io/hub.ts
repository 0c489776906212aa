/**
 * Where a model comes from: a local folder is used as it is; a Hub repo id ("org/name") is resolved through the
 * Hugging Face cache (hub-cache.ts, the layout diffusers and huggingface_hub use), downloading with @huggingface/hub
 * only the files the caller's `FileChoice` picks and only those the cache lacks. Every download of the project goes
 * through `resolveRepo` (pipelines, CLIP checkpoints) or `resolveFile` (a single file such as a reward head).
 *
 * Online, the revision is resolved to its commit (as huggingface_hub's `snapshot_download` does: repo info, then
 * the commit's file tree), refs/<revision> records it, and the snapshot of that commit is returned. A commit hash
 * whose snapshot already holds the files needs no request at all. Offline, or when the Hub cannot be reached, the
 * snapshot refs/<revision> names is used if it holds what the choice needs.
 *
 * Environment (as huggingface_hub reads it): HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), and
 * HF_HUB_CACHE / HF_HOME for the cache (see `hubCacheDir`).
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";

import { HubApiError, listFiles, modelInfo } from "@huggingface/hub";

import { withFileLock } from "./file-lock.js";
import { hubCacheDir, isCommitHash, RepoCache } from "./hub-cache.js";
import { downloadBlob, etagOf, type HubFile, type HubLocation } from "./hub-download.js";
import { checkRevision, checkTokenFormat, hubEndpoint, isRepoId } from "./hub-names.js";
import { findHubToken } from "./hub-token.js";

export interface SourceOptions {
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** The Hugging Face cache root (huggingface_hub's `cache_dir`); default `hubCacheDir()`. */
  cacheDir?: string;
  /** Hub access token (sent as `Authorization: Bearer`); default `$HF_TOKEN`. */
  token?: string;
  /** Use the cache only; default true when `$HF_HUB_OFFLINE` (or `$TRANSFORMERS_OFFLINE`) is 1/true/yes/on. */
  offline?: boolean;
  /** Default `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Weights variant to fetch (e.g. "fp16"); default the full-precision files. Read by the pipeline's choice. */
  variant?: string;
  /** Extra attempts per file after an interrupted transfer, each resuming where the last stopped; default 3. */
  retries?: number;
  /** Progress lines (file started, resumed, cache used). */
  log?: (message: string) => void;
  /** Download progress, after each chunk: the chosen files the cache lacks, in bytes and files. */
  onDownload?: (progress: DownloadProgress) => void;
}

export interface DownloadProgress {
  file: string;
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

/** Where and how to reach one repo revision (SourceOptions with huggingface_hub's environment defaults). */
interface HubSettings extends HubLocation {
  cacheDir: string;
  offline: boolean;
  retries: number;
  log: (message: string) => void;
  onDownload: (progress: DownloadProgress) => void;
}

/**
 * Picks the repo paths to fetch from all of a repo's paths, throwing (without the repo's name, which the caller
 * adds) when something needed is absent. `read` gives the local path of a file the choice must look into first
 * (a pipeline's model_index.json), fetching it when needed.
 */
export type FileChoice = (paths: readonly string[], read: (path: string) => Promise<string>) => string[] | Promise<string[]>;

const TRUTHY = new Set(["1", "true", "yes", "on"]);

/** The local folder holding `source`: the folder itself, or the cache's snapshot of the Hub repo with `choose`'s files. */
export async function resolveRepo(source: string, choose: FileChoice, kind: string, opts: SourceOptions = {}): Promise<string> {
  const found = await stat(source).then((s) => (s.isDirectory() ? "dir" : "file"), () => "none");
  if (found === "dir") return source;
  if (found === "file") throw new Error(`${source} is a file; a ${kind} is a folder or a Hub repo id ("org/name")`);
  if (!isRepoId(source)) throw new Error(`"${source}" is neither a folder nor a Hub repo id ("org/name")`);
  const s = hubSettings(source, opts);
  const cache = new RepoCache(s.cacheDir, s.repo);
  const what = `${s.repo}@${s.revision}`;
  if (s.offline) return useCache(await cached(cache, s.revision, choose, what), "offline mode", "download it once online (without HF_HUB_OFFLINE)", s.log);
  if (isCommitHash(s.revision)) {
    // A commit never changes: a snapshot that holds the files is the answer, as in huggingface_hub.
    const hit = await cached(cache, s.revision, choose, what);
    if ("dir" in hit) return hit.dir;
  }

  let commit: string;
  let listing: HubFile[];
  try {
    commit = await commitOf(s);
    listing = await listRepo({ ...s, revision: commit });
  } catch (error) {
    // The Hub answered (no such repo or revision, no access): that answer stands. No answer: the cache may do.
    if (error instanceof HubApiError && error.statusCode < 500) throw new Error(`cannot list ${what} on ${s.endpoint}: ${error.message}`);
    const why = `cannot reach ${s.endpoint} (${describe(error)})`;
    const fix = `connect to the network (or set HF_ENDPOINT to a reachable Hub) to download it once into ${s.cacheDir}, or pass a local folder`;
    return useCache(await cached(cache, s.revision, choose, what), why, fix, s.log);
  }
  await cache.writeRef(s.revision, commit);

  const at = { ...s, revision: commit };
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const fetchFile = async (path: string, onBytes?: (count: number) => void): Promise<string> => {
    const file = byPath.get(path);
    if (!file) throw new Error(`${what} has no file ${path}`);
    const pointer = cache.snapshotFile(commit, path);
    if ((await sizeOf(pointer)) === file.size) return pointer;
    const blob = cache.blob(etagOf(file));
    if ((await sizeOf(blob)) !== file.size) {
      await cache.tagCacheDir();
      const lock = cache.blobLock(etagOf(file));
      await withFileLock(lock, (holder) => s.log(`waiting for ${holder}, which is downloading ${path} into ${s.cacheDir}`), async () => {
        // The process that held the lock may have finished this very blob.
        if ((await sizeOf(blob)) !== file.size) await downloadBlob(at, file, blob, s.retries, s.log, onBytes);
      });
    }
    await cache.link(commit, path, etagOf(file));
    return pointer;
  };
  let needed: string[];
  try {
    needed = await choose([...byPath.keys()], fetchFile);
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
  // What must come over the network: the chosen files whose blob the cache lacks.
  const missing: HubFile[] = [];
  for (const path of needed) {
    const file = byPath.get(path);
    if (file && (await sizeOf(cache.blob(etagOf(file)))) !== file.size) missing.push(file);
  }
  const progress = { file: "", bytesDone: 0, bytesTotal: missing.reduce((sum, f) => sum + f.size, 0), filesDone: 0, filesTotal: missing.length };
  const onBytes = (count: number) => {
    progress.bytesDone += count;
    s.onDownload({ ...progress });
  };
  for (const path of needed) {
    const downloads = missing.some((f) => f.path === path);
    progress.file = path;
    await fetchFile(path, downloads ? onBytes : undefined);
    if (!downloads) continue;
    progress.filesDone++;
    s.onDownload({ ...progress });
  }
  return cache.snapshot(commit);
}

/**
 * One file: a local path, or "org/name/path/in/repo" fetched through the Hub cache (a local file of that name wins).
 * Returns its local path.
 */
export async function resolveFile(spec: string, opts: SourceOptions = {}): Promise<string> {
  const found = await stat(spec).then((s) => (s.isFile() ? "file" : "other"), () => "none");
  if (found === "file") return spec;
  const parts = spec.split("/");
  const repo = parts.slice(0, 2).join("/");
  if (found === "other" || parts.length < 3 || !isRepoId(repo)) {
    throw new Error(`"${spec}" is neither a file nor a Hub file ("org/name/path/in/repo")`);
  }
  const path = parts.slice(2).join("/");
  return join(await resolveRepo(repo, () => [path], "model", opts), ...path.split("/"));
}

function hubSettings(repo: string, opts: SourceOptions, env: NodeJS.ProcessEnv = process.env): HubSettings {
  const revision = checkRevision(opts.revision ?? "main");
  const found = findHubToken(opts.token, "the token option", env);
  const token = found && checkTokenFormat(found.token, found.source);
  const retries = opts.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw new Error(`retries=${retries} must be a non-negative integer`);
  return {
    repo,
    revision,
    token,
    endpoint: hubEndpoint(opts.endpoint, env),
    cacheDir: opts.cacheDir ?? hubCacheDir(env),
    offline: opts.offline ?? TRUTHY.has((env.HF_HUB_OFFLINE || env.TRANSFORMERS_OFFLINE || "").toLowerCase()),
    retries,
    log: opts.log ?? (() => {}),
    onDownload: opts.onDownload ?? (() => {}),
  };
}

/** The commit the revision names now (GET /api/models/{repo}/revision/{revision}, as `snapshot_download`'s repo_info). */
async function commitOf(at: HubLocation): Promise<string> {
  const info = await modelInfo({ name: at.repo, revision: at.revision, hubUrl: at.endpoint, accessToken: at.token, additionalFields: ["sha"] });
  return info.sha;
}

async function listRepo(at: HubLocation): Promise<HubFile[]> {
  const files: HubFile[] = [];
  const entries = listFiles({ repo: at.repo, revision: at.revision, recursive: true, hubUrl: at.endpoint, accessToken: at.token });
  for await (const e of entries) {
    if (e.type === "file") files.push({ path: e.path, size: e.size, oid: e.oid ?? "", lfs: e.lfs && { oid: e.lfs.oid, size: e.lfs.size } });
  }
  return files;
}

/** The snapshot folder when the cache holds what `choose` needs, else why it cannot serve. */
async function cached(cache: RepoCache, revision: string, choose: FileChoice, what: string): Promise<{ dir: string; what: string } | { missing: string }> {
  const commit = await cache.commitOf(revision);
  const paths = commit === undefined ? [] : await cache.snapshotFiles(commit);
  if (commit === undefined || paths.length === 0) return { missing: `${what} is not in the cache ${cache.folder}` };
  const dir = cache.snapshot(commit);
  const have = new Set(paths);
  try {
    const needed = await choose(paths, async (path) => {
      if (!have.has(path)) throw new Error(`no ${path}`);
      return cache.snapshotFile(commit, path);
    });
    const absent = needed.filter((p) => !have.has(p));
    if (absent.length) throw new Error(`no ${absent.join(", ")}`);
  } catch (error) {
    return { missing: `the cached ${what} in ${dir} is incomplete (${(error as Error).message})` };
  }
  return { dir, what };
}

function useCache(found: { dir: string; what: string } | { missing: string }, why: string, fix: string, log: (m: string) => void): string {
  if ("missing" in found) throw new Error(`${why}: ${found.missing}; ${fix}`);
  log(`${why}: using the cached ${found.what} from ${found.dir}`);
  return found.dir;
}

/** A failed request in words: fetch's "fetch failed" says nothing without its cause (ECONNREFUSED, ENOTFOUND …). */
function describe(error: unknown): string {
  const e = error as Error & { cause?: { message?: string; code?: string } };
  const cause = e.cause?.message ?? e.cause?.code;
  return cause && !e.message.includes(cause) ? `${e.message}: ${cause}` : e.message;
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}
