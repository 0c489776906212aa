import { readFileSync } from "node:fs";

import { coerceOverrides, type OverrideValue } from "./coerce.js";
import { ConfigError, toConfigIssues } from "./errors.js";
import { RunConfigSchema, type RunConfig } from "./schema.js";
import { unhonouredWarnings } from "./warnings.js";

export interface LoadRunConfigOptions {
  /** A JSON file holding an object of RunConfig fields. */
  readonly file?: string;
  /** Fields on top of the file, typically CLI flags: keys may be kebab-case, values strings to coerce. */
  readonly overrides?: Readonly<Record<string, OverrideValue>>;
}

export interface LoadedRunConfig {
  readonly config: RunConfig;
  /** Explicitly set fields the run's engine cannot honour, one sentence each (src/config/warnings.ts). */
  readonly warnings: readonly string[];
}

/** Defaults, then the file, then the overrides; throws a ConfigError listing every problem at once. */
export function loadRunConfig(options: LoadRunConfigOptions = {}): LoadedRunConfig {
  const explicit = {
    ...(options.file === undefined ? {} : readConfigFile(options.file)),
    ...coerceOverrides(options.overrides ?? {}),
  };
  const input = withAlgorithmDefaults(withTruncationDefaultsFollowingSteps(explicit));
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) throw new ConfigError(toConfigIssues(result.error.issues, input));
  return { config: result.data, warnings: unhonouredWarnings(result.data, new Set(Object.keys(explicit)), result.data.engine) };
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    const reason = isErrnoException(error) && error.code === "ENOENT" ? "config file not found" : String(error);
    throw fileError(file, `${reason}; pass the path of a JSON file of RunConfig fields`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw fileError(file, `not valid JSON (${reason}); fix the syntax`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const kind = Array.isArray(parsed) ? "an array" : parsed === null ? "null" : `a ${typeof parsed}`;
    throw fileError(file, `holds ${kind}; expected an object of fields such as {"num_epochs": 10}`);
  }
  return { ...parsed };
}

/**
 * TRL's truncation defaults (timestep 49, range [0, 50]) are `sample_num_steps - 1` and `[0, sample_num_steps]` for
 * its 50 steps. When only the step count is set, they follow it rather than failing the range checks.
 */
function withTruncationDefaultsFollowingSteps(explicit: Record<string, unknown>): Record<string, unknown> {
  const steps = explicit["sample_num_steps"];
  if (typeof steps !== "number" || !Number.isInteger(steps) || steps < 1) return explicit;
  return { truncated_backprop_timestep: steps - 1, truncated_rand_backprop_minmax: [0, steps], ...explicit };
}

/** Defaults that depend on the algorithm: DDPO's learning rate is TRL's DDPOConfig default, 3e-4 (AlignProp's 1e-3). */
function withAlgorithmDefaults(explicit: Record<string, unknown>): Record<string, unknown> {
  return explicit["algorithm"] === "ddpo" ? { train_learning_rate: 3e-4, ...explicit } : explicit;
}

function fileError(file: string, message: string): ConfigError {
  return new ConfigError([{ field: file, message }]);
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}
