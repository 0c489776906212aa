/**
 * Turns flags into a run on disk: validates the run config (file + flags), names the run, creates its directory
 * and writes `config.json` there for the trainer to read. Nothing is created when the config is invalid.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadRunConfig, type RunConfig } from "../config/index.js";

export interface PreparedRun {
  config: RunConfig;
  runDir: string;
  configPath: string;
  warnings: readonly string[];
}

/** `20261125-153012`: sortable, readable, unique enough for one person's runs directory. */
function timestampName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

export function prepareRun(file: string | undefined, overrides: Record<string, string | true>): PreparedRun {
  const { config, warnings } = loadRunConfig({ file, overrides: overrides as Record<string, string | boolean> });
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
