/**
 * The user's image hook (`image_hook`, TRL's `image_samples_hook`): a module whose default export receives every
 * logged image batch. Loaded and checked when the trainer starts, so a wrong path fails before any training.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

export interface ImageHookBatch {
  step: number;
  /** PNG bytes and size of each image, and its path relative to the run directory. */
  images: Array<{ png: Uint8Array; width: number; height: number; path: string }>;
  prompts: string[];
  prompt_metadata: Record<string, unknown>[];
  rewards: number[];
  run_dir: string;
}

export type ImageHook = (batch: ImageHookBatch) => unknown;

export async function loadImageHook(spec: string): Promise<ImageHook | undefined> {
  if (!spec) return undefined;
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(resolve(spec)).href)) as { default?: unknown };
  } catch (err) {
    throw new Error(`image_hook=${JSON.stringify(spec)} could not be loaded: ${(err as Error).message}`);
  }
  if (typeof module.default !== "function") {
    throw new Error(`image_hook=${JSON.stringify(spec)} must export a default function (batch) => void; it exports ${typeof module.default}`);
  }
  return module.default as ImageHook;
}
