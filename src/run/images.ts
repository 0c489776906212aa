/**
 * The images a run logs: `images/step-<N>/<i>.png` (RGB PNGs) and `captions.json` beside them; and reading one back
 * by the path an events.jsonl line names — only a PNG inside the run directory, since that path decides which files
 * a report embeds or a push uploads.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { StepImages } from "../algorithms/job.js";
import { decodePng, encodePng, isPng, type RgbImage } from "../io/png.js";
import { CAPTIONS_FILE, evalImagesDir, stepImagesDir } from "./layout.js";

export interface SavedImage {
  png: Uint8Array;
  /** Relative to the run directory. */
  path: string;
}

/** One entry of captions.json. */
export interface Caption {
  file: string;
  prompt: string;
  prompt_metadata: Record<string, unknown>;
  reward: number;
  /** Eval samples only: the noise seed. */
  seed?: number;
}

export function saveStepImages(runDir: string, step: number, batch: StepImages): Promise<SavedImage[]> {
  return saveImagesIn(runDir, stepImagesDir(step), batch);
}

/** The eval samples after `step` steps, in `images/eval/step-<N>/`, their captions with each one's seed. */
export function saveEvalImages(runDir: string, step: number, batch: StepImages, seeds: readonly number[]): Promise<SavedImage[]> {
  return saveImagesIn(runDir, evalImagesDir(step), batch, seeds);
}

/** The eval samples saved after `step` steps, in order; undefined when there are none (or one is unreadable). */
export async function readEvalImages(runDir: string, step: number): Promise<RgbImage[] | undefined> {
  const dir = evalImagesDir(step);
  try {
    const captions = JSON.parse(await readFile(join(runDir, dir, CAPTIONS_FILE), "utf8")) as Caption[];
    return await Promise.all(captions.map(async (c) => decodePng(await readFile(join(runDir, dir, c.file)))));
  } catch {
    return undefined;
  }
}

async function saveImagesIn(runDir: string, dir: string, batch: StepImages, seeds?: readonly number[]): Promise<SavedImage[]> {
  await mkdir(join(runDir, dir), { recursive: true });
  const saved = await Promise.all(
    batch.images.map(async (image, i) => {
      const png = encodePng(image);
      const path = join(dir, `${i}.png`);
      await writeFile(join(runDir, path), png);
      return { png, path };
    }),
  );
  const captions: Caption[] = batch.prompts.map((prompt, i) => ({
    file: `${i}.png`,
    prompt,
    prompt_metadata: batch.promptMetadata[i] ?? {},
    reward: batch.rewards[i]!,
    ...(seeds ? { seed: seeds[i]! } : {}),
  }));
  await writeFile(join(runDir, dir, CAPTIONS_FILE), JSON.stringify(captions, null, 2) + "\n");
  return saved;
}

/** A logged image's bytes, or why it cannot be used. `path` is the normalised run-relative path ("/"-separated). */
export type RunImage = { ok: true; bytes: Buffer; path: string } | { ok: false; reason: string };

export async function readRunImage(runDir: string, path: string): Promise<RunImage> {
  const root = resolve(runDir);
  const file = resolve(root, path);
  if (!path || !file.startsWith(root + sep)) return { ok: false, reason: "not a path inside the run directory" };
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => err.code ?? "unreadable");
  if (typeof bytes === "string") return { ok: false, reason: bytes === "ENOENT" ? "file not found" : `cannot read it (${bytes})` };
  if (!isPng(bytes)) return { ok: false, reason: "not a PNG file" };
  return { ok: true, bytes, path: relative(root, file).split(sep).join("/") };
}
