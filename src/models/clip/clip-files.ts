/**
 * Where a CLIP checkpoint or a reward head comes from: a local folder (or file) as it is, or a Hub repo downloaded
 * into the same per-repo, per-revision cache pipelines use (src/io/hub.ts: `<cache>/models--org--name/<revision>/`,
 * the same `.alignprop-cache.json` record, resumable and hash-checked downloads), fetching only the files asked for.
 * Offline, or when the Hub cannot be reached, the files recorded in the cache are used.
 *
 * A CLIP checkpoint is transformers' layout: config.json, model.safetensors (or model.safetensors.index.json and its
 * shards) and, for the text tower, the tokenizer's vocab.json and merges.txt. Only safetensors weights are read.
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";

import { HubApiError } from "@huggingface/hub";

import { writeFileAtomic } from "../../io/atomic.js";
import { downloadToCache, type HubFile } from "../../io/hub-download.js";
import { RECORD, hubSettings, listRepo, type SourceOptions } from "../../io/hub.js";
import { openSafetensors, type TensorMap } from "../../io/safetensors.js";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";
export const WEIGHTS_INDEX_FILE = "model.safetensors.index.json";
const SHARD = /^model-\d+-of-\d+\.safetensors$/;
const TOKENIZER_REQUIRED = ["vocab.json", "merges.txt"];
const TOKENIZER_OPTIONAL = ["tokenizer_config.json", "special_tokens_map.json"];

/** "org/name"; neither part starts with "." or "-", so "./x" and "../x" stay paths. */
const REPO_ID = /^\w[\w.-]*\/\w[\w.-]*$/;

/** Picks the files to fetch from a repo's file list; throws naming what is missing. */
export type FileChoice = (paths: readonly string[]) => string[];

/** The files a CLIP checkpoint needs: config, safetensors weights (single or sharded), and the tokenizer if asked. */
export function clipCheckpointFiles(withTokenizer: boolean): FileChoice {
  return (paths) => {
    const has = new Set(paths);
    const missing = (names: string[]) => names.filter((n) => !has.has(n));
    const chosen = [CONFIG_FILE];
    if (has.has(WEIGHTS_FILE)) chosen.push(WEIGHTS_FILE);
    else if (has.has(WEIGHTS_INDEX_FILE)) chosen.push(WEIGHTS_INDEX_FILE, ...paths.filter((p) => SHARD.test(p)));
    else throw new Error(`no ${WEIGHTS_FILE} (nor ${WEIGHTS_INDEX_FILE}): only safetensors CLIP weights are read`);
    if (withTokenizer) chosen.push(...TOKENIZER_REQUIRED, ...TOKENIZER_OPTIONAL.filter((n) => has.has(n)));
    const absent = missing([CONFIG_FILE, ...(withTokenizer ? TOKENIZER_REQUIRED : [])]);
    if (absent.length) throw new Error(`no ${absent.join(", ")}: a CLIP checkpoint in transformers' layout has them`);
    return chosen;
  };
}

/** The local folder holding `source`'s files: the folder itself, or the Hub repo's cache folder with `choose`'s files. */
export async function resolveRepoFiles(source: string, choose: FileChoice, opts: SourceOptions = {}): Promise<string> {
  const kind = await stat(source).then((s) => (s.isDirectory() ? "dir" : "file"), () => "none");
  if (kind === "dir") return source;
  if (kind === "file") throw new Error(`${source} is a file; a CLIP checkpoint is a folder or a Hub repo id ("org/name")`);
  if (!REPO_ID.test(source)) throw new Error(`"${source}" is neither a folder nor a Hub repo id ("org/name")`);
  const s = hubSettings(source, opts);
  const dir = join(s.cacheDir, `models--${source.replace("/", "--")}`, encodeURIComponent(s.revision));
  const record = await readRecord(dir);
  const what = `${s.repo}@${s.revision}`;
  if (s.offline) return useCache(dir, record, choose, what, "offline mode", s.log);

  let listing: HubFile[];
  try {
    listing = await listRepo(s);
  } catch (error) {
    const message = (error as Error).message;
    if (!(error instanceof HubApiError) && Object.keys(record.files).length) {
      return useCache(dir, record, choose, what, `cannot reach ${s.endpoint} (${message})`, s.log);
    }
    throw new Error(`cannot list ${what} on ${s.endpoint}: ${message}`);
  }
  const byPath = new Map(listing.map((f) => [f.path, f]));
  let needed: string[];
  try {
    needed = choose([...byPath.keys()]);
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
  for (const path of needed) {
    const file = byPath.get(path);
    if (!file) throw new Error(`${what} has no file ${path}`);
    const id = file.lfs?.oid ?? file.oid;
    if (record.files[path]?.id === id && (await sizeOf(join(dir, path))) === file.size) continue;
    await downloadToCache(s, file, join(dir, path), s.retries, s.log);
    record.files[path] = { id, size: file.size };
    await writeFileAtomic(join(dir, RECORD), JSON.stringify(record, null, 2));
  }
  return dir;
}

/**
 * One file: a local path, or "org/name/path/in/repo" fetched through the Hub cache (a local file of that name wins).
 */
export async function resolveFile(spec: string, opts: SourceOptions = {}): Promise<string> {
  const kind = await stat(spec).then((s) => (s.isFile() ? "file" : "other"), () => "none");
  if (kind === "file") return spec;
  const parts = spec.split("/");
  if (kind === "other" || parts.length < 3 || !REPO_ID.test(parts.slice(0, 2).join("/"))) {
    throw new Error(`"${spec}" is neither a file nor a Hub file ("org/name/path/in/repo")`);
  }
  const path = parts.slice(2).join("/");
  return join(await resolveRepoFiles(parts.slice(0, 2).join("/"), () => [path], opts), path);
}

export async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * The floating-point tensors of a checkpoint folder whose keys `keep` accepts, read one at a time (a ViT-L/14
 * CLIPModel file is 1.7 GB; the vision half is read without the text half).
 */
export async function readCheckpointTensors(dir: string, keep: (key: string) => boolean): Promise<TensorMap> {
  const single = join(dir, WEIGHTS_FILE);
  let shards: string[];
  if ((await sizeOf(single)) !== undefined) shards = [single];
  else {
    const index = await readJsonFile(join(dir, WEIGHTS_INDEX_FILE));
    const map = index.weight_map;
    if (typeof map !== "object" || map === null) throw new Error(`${join(dir, WEIGHTS_INDEX_FILE)} has no "weight_map"`);
    shards = [...new Set(Object.values(map as Record<string, string>))].map((file) => join(dir, file));
  }
  const out: TensorMap = {};
  for (const path of shards) {
    const file = await openSafetensors(path);
    try {
      for (const name of file.names().filter(keep)) {
        const t = await file.read(name);
        if ("dtype" in t) throw new Error(`${path}: tensor "${name}" is ${t.dtype}, not a floating-point weight`);
        out[name] = t;
      }
    } finally {
      await file.close();
    }
  }
  return out;
}

/** The cache record hub.ts writes; other fields (its pipelines' file lists) are kept as they are. */
interface CacheRecord {
  files: Record<string, { id: string; size: number }>;
  [other: string]: unknown;
}

async function readRecord(dir: string): Promise<CacheRecord> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, RECORD), "utf8")) as Partial<CacheRecord>;
    return { ...parsed, files: parsed.files ?? {} };
  } catch {
    // No record (or a damaged one): every file is fetched again and verified.
    return { files: {} };
  }
}

/** The cache folder, if `choose` finds its files among the completed ones and every one is present. */
async function useCache(dir: string, record: CacheRecord, choose: FileChoice, what: string, why: string, log: (m: string) => void): Promise<string> {
  let needed: string[];
  try {
    needed = choose(Object.keys(record.files));
  } catch (error) {
    throw new Error(`${why}: ${what} is not in the cache ${dir} (${(error as Error).message}); download it once online`);
  }
  const missing: string[] = [];
  for (const path of needed) {
    if (record.files[path] === undefined || (await sizeOf(join(dir, path))) !== record.files[path].size) missing.push(path);
  }
  if (missing.length) throw new Error(`${why}: the cached ${what} in ${dir} lacks ${missing.join(", ")}; download it again online`);
  log(`${why}: using the cached ${what} from ${dir}`);
  return dir;
}

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}
