/**
 * Creating a run directory (a fresh, unique name under the runs directory, with its config.json) and recognising one
 * (a folder with config.json and events.jsonl).
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ConfigError } from "../config/index.js";
import { InputError } from "../util/input-error.js";
import { CONFIG_FILE, EVENTS_FILE, runFiles } from "./layout.js";

/** `20261125-153012`: sortable, readable, unique enough for one person's runs directory. */
export function timestampName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
}

/**
 * Creates `<runsDir>/<name>/`: `runName` when given (an existing one is an error), else a timestamp (with `-2`, `-3`, …
 * when taken). Returns the directory and its name; write its config with `writeRunConfig`.
 */
export function createRunDir(runsDir: string, runName: string): { runDir: string; name: string } {
  const root = resolve(runsDir);
  let name = runName || timestampName();
  if (runName && existsSync(join(root, name))) {
    throw new ConfigError([{ field: "run_name", message: `"${name}": ${join(root, name)} already exists; choose another run_name` }]);
  }
  for (let i = 2; existsSync(join(root, name)); i++) name = `${timestampName()}-${i}`;
  const runDir = join(root, name);
  mkdirSync(runDir, { recursive: true });
  return { runDir, name };
}

/** Writes the run's config.json (pretty JSON, trailing newline); returns its path. */
export function writeRunConfig(runDir: string, config: object): string {
  const path = runFiles(runDir).config;
  writeFileSync(path, JSON.stringify(config, null, 2) + "\n");
  return path;
}

/**
 * Throws an InputError (the user named the wrong folder: exit 2), naming the path, when `runDir` is not a run
 * directory (a folder with config.json and events.jsonl).
 */
export async function assertRunDir(runDir: string): Promise<void> {
  const info = await stat(runDir).catch(() => undefined);
  if (!info) throw new InputError(`${runDir} does not exist (expected a run directory, runs/<name>/)`);
  if (!info.isDirectory()) throw new InputError(`${runDir} is not a run directory (it is a file)`);
  for (const file of [CONFIG_FILE, EVENTS_FILE]) {
    if (!(await stat(join(runDir, file)).catch(() => undefined))) {
      throw new InputError(`${runDir} is not a run directory: it has no ${file} (runs/<name>/ holds ${CONFIG_FILE} and ${EVENTS_FILE})`);
    }
  }
}
