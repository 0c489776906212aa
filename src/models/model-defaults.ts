/**
 * What a pipeline folder brings for a run besides its weights: `alignprop.json` beside `model_index.json`
 * (`{"reward": "...", "prompts": "...", "eval_freq": N, "eval_prompts": [...], "eval_seeds": [...],
 * "eval_monitors": [...]}`), the reward, prompt source and evaluation set a run takes when its config leaves them
 * unset ("", null or []). The defaults travel with the folder, so `--model models/tiny-shapes` and
 * `--model tiny-shapes` train the same.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import type { RunConfig } from "../config/index.js";

export const MODEL_DEFAULTS_FILE = "alignprop.json";
/**
 * Without a metadata file (or a field in it): TRL's example reward family and prompt list; no evaluation (a model
 * that names no eval prompts has no eval set to run), two seeds per prompt and CLIP score as fidelity when one is set.
 */
export const FALLBACK_DEFAULTS = {
  reward: "brightness",
  prompts: "animals",
  eval_freq: 0,
  eval_prompts: [] as readonly string[],
  eval_seeds: [0, 1] as readonly number[],
  eval_monitors: ["reward", "clip-fidelity", "diversity", "drift"] as readonly string[],
} as const;

const ModelDefaultsSchema = z.strictObject({
  reward: z.string().min(1).optional(),
  prompts: z.string().min(1).optional(),
  eval_freq: z.int().min(0).optional(),
  eval_prompts: z.array(z.string().min(1)).min(1).optional(),
  eval_seeds: z.array(z.int().min(0)).min(1).optional(),
  eval_monitors: z.array(z.string().min(1)).min(1).optional(),
});

export interface RunDefaults {
  reward: string;
  prompts: string;
  eval_freq: number;
  eval_prompts: readonly string[];
  eval_seeds: readonly number[];
  eval_monitors: readonly string[];
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
    throw new Error(`${path}: not a valid model defaults file ({"reward": "...", "prompts": "...", "eval_freq": N, ...}): ${detail}`);
  }
  return { ...FALLBACK_DEFAULTS, ...parsed };
}

/** What a run uses: its config's reward, prompts and eval set where set, else those of its model folder. */
export function resolveRunDefaults(
  config: Pick<RunConfig, "reward" | "prompts"> & Partial<Pick<RunConfig, "eval_freq" | "eval_prompts" | "eval_seeds" | "eval_monitors">>,
  modelDir: string | undefined,
): RunDefaults {
  const model = modelDefaults(modelDir);
  const list = <T>(own: readonly T[] | undefined, fallback: readonly T[]) => (own && own.length > 0 ? own : fallback);
  return {
    reward: config.reward || model.reward,
    prompts: config.prompts || model.prompts,
    eval_freq: config.eval_freq ?? model.eval_freq,
    eval_prompts: list(config.eval_prompts, model.eval_prompts),
    eval_seeds: list(config.eval_seeds, model.eval_seeds),
    eval_monitors: list(config.eval_monitors, model.eval_monitors),
  };
}
