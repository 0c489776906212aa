/**
 * The pipeline every trainer-process test trains: test/pipeline/tiny.ts's random SD1.5-layout pipeline (16×16 images,
 * 8×8 latents) saved in diffusers layout at test/fixtures/pipeline/tiny-sd, committed so a test needs no set-up.
 * `TINY_RUN` are the fast settings tests run the real AlignProp job with: a 2-step DDIM chain, one kept step.
 * Regenerate after changing the pipeline: `node dist/test/helpers/tiny-model.js` (a test checks it is current).
 */
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { disposePipeline, savePipeline } from "../../src/models/pipeline.js";
import { tinyPipeline } from "../pipeline/tiny.js";

/** dist/test/helpers/ → test/fixtures/pipeline/tiny-sd */
export const TINY_MODEL = fileURLToPath(new URL("../../../test/fixtures/pipeline/tiny-sd", import.meta.url));
export const TINY_MODEL_SEED = 7;

/** Run-config overrides (as flags give them) for a fast real AlignProp run on TINY_MODEL. */
export const TINY_RUN: Readonly<Record<string, string>> = {
  model: TINY_MODEL,
  reward: "brightness",
  prompts: "shapes",
  sample_num_steps: "2",
  train_batch_size: "2",
  train_learning_rate: "0.01",
};

/** The same as flags: `["--model", TINY_MODEL, …]`. */
export const TINY_RUN_FLAGS: readonly string[] = Object.entries(TINY_RUN).flatMap(([k, v]) => [`--${k}`, v]);

/** Writes the tiny pipeline into `dir` (which must not exist). */
export async function writeTinyModel(dir: string): Promise<void> {
  const pipeline = await tinyPipeline(TINY_MODEL_SEED);
  try {
    await savePipeline(dir, pipeline);
  } finally {
    disposePipeline(pipeline);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(TINY_MODEL, { recursive: true, force: true });
  await writeTinyModel(TINY_MODEL);
  process.stdout.write(`wrote ${TINY_MODEL}\n`);
}
