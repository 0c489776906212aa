/**
 * The files of a CLIP checkpoint: which to fetch from a Hub repo (`clipCheckpointFiles`, a choice for src/io/hub.ts's
 * `resolveRepo`, which resolves folders and Hub ids through the Hugging Face cache) and how to read them.
 *
 * A CLIP checkpoint is transformers' layout: config.json, model.safetensors (or model.safetensors.index.json and its
 * shards) and, for the text tower, the tokenizer's vocab.json and merges.txt. Only safetensors weights are read.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";

import { resolveRepo, type FileChoice, type SourceOptions } from "../../io/hub.js";
import { readJsonObject } from "../../io/json-file.js";
import { openSafetensors, type TensorMap } from "../../io/safetensors.js";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";
export const WEIGHTS_INDEX_FILE = "model.safetensors.index.json";
const SHARD = /^model-\d+-of-\d+\.safetensors$/;
const TOKENIZER_REQUIRED = ["vocab.json", "merges.txt"];
const TOKENIZER_OPTIONAL = ["tokenizer_config.json", "special_tokens_map.json"];

/** The files a CLIP checkpoint needs: config, safetensors weights (single or sharded), and the tokenizer if asked. */
function clipCheckpointFiles(withTokenizer: boolean): FileChoice {
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

/** The folder holding the CLIP checkpoint `source` names: a local folder, or a Hub repo's snapshot in the cache. */
export function resolveClipCheckpoint(source: string, withTokenizer: boolean, opts: SourceOptions): Promise<string> {
  return resolveRepo(source, clipCheckpointFiles(withTokenizer), "CLIP checkpoint", opts);
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
    const index = await readJsonObject(join(dir, WEIGHTS_INDEX_FILE));
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

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}
