/**
 * Turns flags into a run on disk: validates the run config (file + flags), names the run, creates its directory
 * and writes `config.json` there for the trainer to read. Nothing is created when the config is invalid.
 */
import { existsSync } from "node:fs";
import { ConfigError, loadRunConfig, unhonouredWarnings, type RunConfig } from "../config/index.js";
import { modelSource } from "../models/embedded.js";
import { resolveRunDefaults } from "../models/model-defaults.js";
import { checkpointEngine, resolveResume } from "./checkpoints.js";
import { createRunDir, writeRunConfig } from "./create.js";
import { runFiles } from "./layout.js";

export interface PreparedRun {
  config: RunConfig;
  runDir: string;
  configPath: string;
  warnings: readonly string[];
  /** The checkpoint directory to continue from, when resuming. */
  checkpoint?: string;
}

/** `check` sees the validated config of a new run before its folder is made, and throws to refuse it. */
export function prepareRun(file: string | undefined, overrides: Record<string, string | true>, check?: (config: RunConfig) => void): PreparedRun {
  const { config, warnings } = loadRunConfig({ file, overrides: overrides as Record<string, string | boolean> });
  if (config.resume_from) return prepareResume(config.resume_from, file, overrides);
  check?.(config);
  const { runDir, name } = createRunDir(config.runs_dir, config.run_name);
  const finalConfig = { ...config, ...evalDefaults(config), run_name: name };
  const configPath = writeRunConfig(runDir, finalConfig);
  return { config: finalConfig, runDir, configPath, warnings };
}

/**
 * The evaluation fields as the run uses them (its own where set, else its model folder's alignprop.json, else the
 * fallbacks), so config.json spells them out and every engine reads the same eval set. A Hub model not on disk yet
 * takes the fallbacks (no evaluation unless eval_freq is set).
 */
export function evalDefaults(config: RunConfig): Pick<RunConfig, "eval_freq" | "eval_prompts" | "eval_seeds" | "eval_monitors"> {
  const source = modelSource(config.model);
  const d = resolveRunDefaults(config, existsSync(source) ? source : undefined);
  return { eval_freq: d.eval_freq, eval_prompts: [...d.eval_prompts], eval_seeds: [...d.eval_seeds], eval_monitors: [...d.eval_monitors] };
}

/**
 * Resuming (`resume_from`, TRL's field; `--resume` on the command line): the run's own config.json, with any flags
 * given now on top (e.g. more epochs), continuing in the same run directory from its newest (or the named) checkpoint.
 */
function prepareResume(resumeFrom: string, file: string | undefined, overrides: Record<string, string | true>): PreparedRun {
  if (file) throw new ConfigError([{ field: "resume_from", message: `"${resumeFrom}": a resumed run uses its own config.json; drop --config` }]);
  const { runDir, checkpoint } = resolveResume(resumeFrom);
  const configPath = runFiles(runDir).config;
  const rest = Object.fromEntries(Object.entries(overrides).filter(([k]) => !["resume_from", "resume-from"].includes(k)));
  // Warnings are about what the user sets now: the saved config.json spells out every field, defaults included.
  const { config } = loadRunConfig({ file: configPath, overrides: rest as Record<string, string | boolean> });
  refuseOtherEngine(checkpoint, config.engine);
  const warnings = unhonouredWarnings(config, new Set(Object.keys(rest).map((k) => k.replace(/-/g, "_"))), config.engine);
  writeRunConfig(runDir, { ...config, resume_from: "" });
  return { config, runDir, configPath, warnings, checkpoint };
}

/** A checkpoint resumes only in the engine that wrote it; refused before config.json is rewritten. */
function refuseOtherEngine(checkpoint: string, engine: RunConfig["engine"]): void {
  const wrote = checkpointEngine(checkpoint);
  if (wrote !== engine) {
    const why = `${checkpoint} was written by the ${JSON.stringify(wrote)} engine, whose weights, optimizer and RNG state only it reads; resume with --engine ${wrote}`;
    throw new ConfigError([{ field: "engine", message: `${JSON.stringify(engine)}: ${why}` }]);
  }
}
