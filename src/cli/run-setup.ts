/**
 * Turns flags into a run on disk: validates the run config (file + flags), names the run, creates its directory
 * and writes `config.json` there for the trainer to read. Nothing is created when the config is invalid.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError, loadRunConfig, type RunConfig } from "../config/index.js";
import { resolveResume } from "../trainer/checkpoints.js";

export interface PreparedRun {
  config: RunConfig;
  runDir: string;
  configPath: string;
  warnings: readonly string[];
  /** The checkpoint directory to continue from, when resuming. */
  checkpoint?: string;
}

/** `20261125-153012`: sortable, readable, unique enough for one person's runs directory. */
function timestampName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

export function prepareRun(file: string | undefined, overrides: Record<string, string | true>): PreparedRun {
  const { config, warnings } = loadRunConfig({ file, overrides: overrides as Record<string, string | boolean> });
  if (config.resume_from) return prepareResume(config.resume_from, file, overrides);
  const runsDir = resolve(config.runs_dir);
  let name = config.run_name || timestampName();
  if (config.run_name && existsSync(join(runsDir, name))) {
    throw new Error(`run_name="${name}": ${join(runsDir, name)} already exists; choose another run_name`);
  }
  for (let i = 2; existsSync(join(runsDir, name)); i++) name = `${timestampName()}-${i}`;
  const runDir = join(runsDir, name);
  mkdirSync(runDir, { recursive: true });
  const finalConfig = { ...config, run_name: name };
  const configPath = join(runDir, "config.json");
  writeFileSync(configPath, JSON.stringify(finalConfig, null, 2) + "\n");
  return { config: finalConfig, runDir, configPath, warnings };
}

/**
 * Resuming (`resume_from`, TRL's field; `--resume` on the command line): the run's own config.json, with any flags
 * given now on top (e.g. more epochs), continuing in the same run directory from its newest (or the named) checkpoint.
 */
function prepareResume(resumeFrom: string, file: string | undefined, overrides: Record<string, string | true>): PreparedRun {
  if (file) throw new Error(`resume_from="${resumeFrom}": a resumed run uses its own config.json; drop --config`);
  const { runDir, checkpoint } = resolveResume(resumeFrom);
  const configPath = join(runDir, "config.json");
  const rest = Object.fromEntries(Object.entries(overrides).filter(([k]) => !["resume_from", "resume-from"].includes(k)));
  const { config, warnings } = loadRunConfig({ file: configPath, overrides: rest as Record<string, string | boolean> });
  refuseOtherEngine(checkpoint, config.engine);
  writeFileSync(configPath, JSON.stringify({ ...config, resume_from: "" }, null, 2) + "\n");
  return { config, runDir, configPath, warnings, checkpoint };
}

/** A checkpoint resumes only in the engine that wrote it (state.json's `engine`; none: tfjs, which predates it). */
function refuseOtherEngine(checkpoint: string, engine: RunConfig["engine"]): void {
  const state = JSON.parse(readFileSync(join(checkpoint, "state.json"), "utf8")) as { engine?: string };
  const wrote = state.engine ?? "tfjs";
  if (wrote !== engine) {
    const why = `${checkpoint} was written by the ${JSON.stringify(wrote)} engine, whose weights, optimizer and RNG state only it reads; resume with --engine ${wrote}`;
    throw new ConfigError([{ field: "engine", message: `${JSON.stringify(engine)}: ${why}` }]);
  }
}
