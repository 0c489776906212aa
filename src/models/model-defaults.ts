/**
 * What a pipeline folder brings for a run besides its weights: `alignprop.json` beside `model_index.json`
 * (`{"reward": "...", "prompts": "..."}`), the reward and prompt source a run takes when its config leaves them "".
 * The defaults travel with the folder, so `--model models/tiny-shapes` and `--model tiny-shapes` train the same.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { RunConfig } from "../config/index.js";

export const MODEL_DEFAULTS_FILE = "alignprop.json";
/** Without a metadata file (or a field in it): TRL's example reward family and prompt list. */
export const FALLBACK_DEFAULTS = { reward: "brightness", prompts: "animals" } as const;

const ModelDefaultsSchema = z.strictObject({ reward: z.string().min(1).optional(), prompts: z.string().min(1).optional() });

export interface RunDefaults {
  reward: string;
  prompts: string;
}

/** `dir`'s metadata file, checked; the fallbacks where it is absent. `dir` undefined: a model not on disk. */
export function modelDefaults(dir: string | undefined): RunDefaults {
  const path = dir === undefined ? undefined : join(dir, MODEL_DEFAULTS_FILE);
  if (path === undefined || !existsSync(path)) return { ...FALLBACK_DEFAULTS };
  let parsed: z.infer<typeof ModelDefaultsSchema>;
  try {
    parsed = ModelDefaultsSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    const detail = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    throw new Error(`${path}: not a valid model defaults file ({"reward": "...", "prompts": "..."}): ${detail}`);
  }
  return { reward: parsed.reward ?? FALLBACK_DEFAULTS.reward, prompts: parsed.prompts ?? FALLBACK_DEFAULTS.prompts };
}

/** The reward and prompts a run uses: its config's, else those of its model folder. */
export function resolveRunDefaults(config: Pick<RunConfig, "reward" | "prompts">, modelDir: string | undefined): RunDefaults {
  const defaults = config.reward && config.prompts ? undefined : modelDefaults(modelDir);
  return { reward: config.reward || defaults!.reward, prompts: config.prompts || defaults!.prompts };
}
