/**
 * Where a pipeline comes from: a local folder is used as it is; a Hub repo id ("org/name") is downloaded with
 * @huggingface/hub into a cache folder per repo and revision, fetching only what the pipeline needs (see
 * `pipelineFiles`). Completed files are recorded with their content id, so a second run downloads nothing and an
 * interrupted one fetches only what is missing; offline mode reads the cache alone.
 *
 * Environment (as huggingface_hub reads it): HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, HF_HOME.
 */
import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";

import { HubApiError, listFiles } from "@huggingface/hub";

import { MODEL_INDEX, pipelineFiles } from "../models/pipeline-layout.js";
import { writeFileAtomic } from "./atomic.js";
import { downloadToCache, type HubFile, type HubLocation } from "./hub-download.js";

export interface SourceOptions {
  /** Branch, tag or commit; default "main". */
  revision?: string;
  /** Default `$HF_HOME/alignprop`, else `~/.cache/huggingface/alignprop`. */
  cacheDir?: string;
  /** Hub access token (sent as `Authorization: Bearer`); default `$HF_TOKEN`. */
  token?: string;
  /** Use the cache only; default true when `$HF_HUB_OFFLINE` is 1/true/yes/on. */
  offline?: boolean;
  /** Default `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  /** Weights variant to fetch (e.g. "fp16"); default the full-precision files. */
  variant?: string;
  /** Extra attempts per file after an interrupted transfer, each resuming where the last stopped; default 3. */
  retries?: number;
  /** Progress lines (file started, resumed, cache used). */
  log?: (message: string) => void;
  /** Download progress, after each chunk: the pipeline's files still missing from the cache, in bytes and files. */
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
export interface HubSettings extends HubLocation {
  cacheDir: string;
  offline: boolean;
  variant: string | undefined;
  retries: number;
  log: (message: string) => void;
  onDownload: (progress: DownloadProgress) => void;
}

/** What the cache folder of one repo + revision holds: completed files and, per variant, a pipeline's file list. */
interface CacheRecord {
  files: Record<string, { id: string; size: number }>;
  pipelines: Record<string, string[]>;
}

const REPO_ID = /^[\w.-]+\/[\w.-]+$/;
/** The file in each cache folder recording what was downloaded completely. */
export const RECORD = ".alignprop-cache.json";
const TRUTHY = new Set(["1", "true", "yes", "on"]);

/** The local folder holding the pipeline `source` names: the folder itself, or the Hub repo's cache folder. */
export async function resolveSource(source: string, opts: SourceOptions = {}): Promise<string> {
  const kind = await stat(source).then((s) => (s.isDirectory() ? "dir" : "file"), () => "none");
  if (kind === "dir") return source;
  if (kind === "file") throw new Error(`${source} is a file; a pipeline is a folder (with ${MODEL_INDEX}) or a Hub repo id`);
  if (!REPO_ID.test(source)) throw new Error(`"${source}" is neither a folder nor a Hub repo id ("org/name")`);
  const s = hubSettings(source, opts);
  const dir = join(s.cacheDir, `models--${source.replace("/", "--")}`, encodeURIComponent(s.revision));
  const variantKey = s.variant ?? "";
  const record = await readRecord(dir);
  if (s.offline) return useCache(dir, record, s, "offline mode");

  let listing: HubFile[];
  try {
    listing = await listRepo(s);
  } catch (error) {
    const message = (error as Error).message;
    if (!(error instanceof HubApiError) && record.pipelines[variantKey]) {
      return useCache(dir, record, s, `cannot reach ${s.endpoint} (${message})`);
    }
    throw new Error(`cannot list ${s.repo}@${s.revision} on ${s.endpoint}: ${message}`);
  }
  const byPath = new Map(listing.map((f) => [f.path, f]));
  const cached = async (path: string) => {
    const file = byPath.get(path)!;
    return record.files[path]?.id === (file.lfs?.oid ?? file.oid) && (await sizeOf(join(dir, path))) === file.size;
  };
  const fetch = async (path: string, onBytes?: (count: number) => void) => {
    const file = byPath.get(path)!;
    await downloadToCache(s, file, join(dir, path), s.retries, s.log, onBytes);
    record.files[path] = { id: file.lfs?.oid ?? file.oid, size: file.size };
    await writeFileAtomic(join(dir, RECORD), JSON.stringify(record, null, 2));
  };

  if (!byPath.has(MODEL_INDEX)) throw new Error(`${s.repo}@${s.revision} has no ${MODEL_INDEX}: it is not a diffusers pipeline`);
  if (!(await cached(MODEL_INDEX))) await fetch(MODEL_INDEX);
  let needed: string[];
  try {
    needed = pipelineFiles([...byPath.keys()], JSON.parse(await readFile(join(dir, MODEL_INDEX), "utf8")), s.variant);
  } catch (error) {
    throw new Error(`${s.repo}@${s.revision}: ${(error as Error).message}`);
  }
  const missing: string[] = [];
  for (const path of needed) if (!(await cached(path))) missing.push(path);
  const progress = { file: "", bytesDone: 0, bytesTotal: missing.reduce((sum, p) => sum + byPath.get(p)!.size, 0), filesDone: 0, filesTotal: missing.length };
  for (const path of missing) {
    progress.file = path;
    await fetch(path, (count) => {
      progress.bytesDone += count;
      s.onDownload({ ...progress });
    });
    progress.filesDone++;
    s.onDownload({ ...progress });
  }
  record.pipelines[variantKey] = needed;
  await writeFileAtomic(join(dir, RECORD), JSON.stringify(record, null, 2));
  return dir;
}

export function hubSettings(repo: string, opts: SourceOptions, env: NodeJS.ProcessEnv = process.env): HubSettings {
  const revision = opts.revision ?? "main";
  if (!/^[\w./-]+$/.test(revision) || revision.split("/").some((part) => part === "" || part === "." || part === "..")) {
    throw new Error(`revision=${JSON.stringify(revision)} is not a branch, tag or commit name`);
  }
  const token = opts.token ?? (env.HF_TOKEN || undefined);
  if (token !== undefined && !token.startsWith("hf_")) {
    throw new Error(`the Hub token (${opts.token === undefined ? "HF_TOKEN" : "token option"}) must start with "hf_"`);
  }
  const retries = opts.retries ?? 3;
  if (!Number.isInteger(retries) || retries < 0) throw new Error(`retries=${retries} must be a non-negative integer`);
  return {
    repo,
    revision,
    token,
    endpoint: (opts.endpoint ?? (env.HF_ENDPOINT || "https://huggingface.co")).replace(/\/+$/, ""),
    cacheDir: opts.cacheDir ?? join(env.HF_HOME || join(homedir(), ".cache", "huggingface"), "alignprop"),
    offline: opts.offline ?? TRUTHY.has((env.HF_HUB_OFFLINE ?? "").toLowerCase()),
    variant: opts.variant,
    retries,
    log: opts.log ?? (() => {}),
    onDownload: opts.onDownload ?? (() => {}),
  };
}

export async function listRepo(s: HubSettings): Promise<HubFile[]> {
  const files: HubFile[] = [];
  const entries = listFiles({ repo: s.repo, revision: s.revision, recursive: true, hubUrl: s.endpoint, accessToken: s.token });
  for await (const e of entries) {
    if (e.type === "file") files.push({ path: e.path, size: e.size, oid: e.oid ?? "", lfs: e.lfs && { oid: e.lfs.oid, size: e.lfs.size } });
  }
  return files;
}

/** The cache folder, if a complete pipeline (this variant) is recorded there and every file is present. */
async function useCache(dir: string, record: CacheRecord, s: HubSettings, why: string): Promise<string> {
  const what = `${s.repo}@${s.revision}${s.variant ? ` (variant ${s.variant})` : ""}`;
  const needed = record.pipelines[s.variant ?? ""];
  if (!needed) throw new Error(`${why}: ${what} is not in the cache ${dir}; download it once online`);
  const missing: string[] = [];
  for (const path of needed) {
    if ((await sizeOf(join(dir, path))) !== record.files[path]?.size) missing.push(path);
  }
  if (missing.length) throw new Error(`${why}: the cached ${what} in ${dir} lacks ${missing.join(", ")}; download it again online`);
  s.log(`${why}: using the cached ${what} from ${dir}`);
  return dir;
}

async function readRecord(dir: string): Promise<CacheRecord> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, RECORD), "utf8")) as Partial<CacheRecord>;
    return { files: parsed.files ?? {}, pipelines: parsed.pipelines ?? {} };
  } catch {
    // No record (or a damaged one): every file is fetched again and verified.
    return { files: {}, pipelines: {} };
  }
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}
