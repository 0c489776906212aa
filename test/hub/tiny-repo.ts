/**
 * The Hub repo the hub tests serve: a tiny random pipeline at two revisions ("main", seed 1; "v1", seed 2), plus the
 * files a real SD repo has that a pipeline download must skip (and an fp16 variant it takes only when asked).
 */
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { stateDict } from "../../src/models/nn/state-dict.js";
import { disposePipeline, savePipeline } from "../../src/models/pipeline.js";
import { tinyPipeline } from "../pipeline/tiny.js";
import type { RepoContents } from "./hub-server.js";

export const REPO = "alignprop-test/tiny-sd";
export const UNET = "unet/diffusion_pytorch_model.safetensors";
/** What a pipeline download must fetch, and nothing else. */
export const NEEDED = [
  "model_index.json",
  "scheduler/scheduler_config.json",
  "text_encoder/config.json",
  "text_encoder/model.safetensors",
  "tokenizer/merges.txt",
  "tokenizer/special_tokens_map.json",
  "tokenizer/tokenizer_config.json",
  "tokenizer/vocab.json",
  "unet/config.json",
  UNET,
  "vae/config.json",
  "vae/diffusion_pytorch_model.safetensors",
];

export interface TinyRepo {
  contents: RepoContents;
  /** conv_in.weight of each revision's UNet, to tell revisions apart. */
  convIn: Record<string, Float32Array>;
}

/** Every file of a saved pipeline folder, by its path in the folder. */
export async function filesOf(dir: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) out[relative(dir, join(entry.parentPath, entry.name))] = new Uint8Array(await readFile(join(entry.parentPath, entry.name)));
  }
  return out;
}

/** Builds the repo's files (pipelines saved under `root`/repo/<revision>). */
export async function tinyRepo(root: string): Promise<TinyRepo> {
  const contents: RepoContents = {};
  const convIn: Record<string, Float32Array> = {};
  const text = (s: string) => new TextEncoder().encode(s);
  for (const [revision, seed] of [["main", 1], ["v1", 2]] as const) {
    const pipeline = await tinyPipeline(seed);
    convIn[revision] = stateDict(pipeline.unet)["conv_in.weight"]!.data;
    await savePipeline(join(root, "repo", revision), pipeline);
    disposePipeline(pipeline);
    const files = await filesOf(join(root, "repo", revision));
    contents[revision] = {
      ...files,
      "README.md": text("# tiny\n"),
      "unet/diffusion_pytorch_model.bin": text("pickle"),
      "unet/diffusion_pytorch_model.fp16.safetensors": files[UNET]!,
      "safety_checker/config.json": text("{}"),
      "safety_checker/model.safetensors": text("not needed"),
      "tokenizer/tokenizer.json": text("{}"),
    };
  }
  return { contents, convIn };
}
