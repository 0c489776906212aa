/**
 * The models that ship inside the package: `tiny-shapes` (models/tiny-shapes, made by `alignprop pretrain`), a
 * diffusers pipeline with its two learned rewards beside it. A config names it by that word; it resolves to the
 * package's own folder wherever the CLI runs from. Its default reward and prompt source are in the folder
 * (`alignprop.json`, see model-defaults.ts), so the name and the path train the same.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (this file is dist/src/models/embedded.js there). */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface EmbeddedModel {
  dir: string;
  /** transformers-layout CLIP beside the pipeline (the alignment reward). */
  clipDir: string;
  /** The LAION-layout aesthetic head over clipDir's image embeddings. */
  aestheticHead: string;
}

export const TINY_SHAPES = "tiny-shapes";

export function embeddedModel(name: string): EmbeddedModel | undefined {
  if (name !== TINY_SHAPES) return undefined;
  const dir = join(PACKAGE_ROOT, "models", TINY_SHAPES);
  return {
    dir,
    clipDir: join(dir, "clip"),
    aestheticHead: join(dir, "aesthetic", "head.safetensors"),
  };
}

/** The folder or Hub id to load for a config's `model`: the package's folder for an embedded name. */
export const modelSource = (model: string): string => embeddedModel(model)?.dir ?? model;
