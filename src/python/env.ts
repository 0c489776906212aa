/**
 * The project's one Python environment (PyTorch engine, numerical oracle, pytest): `.venv/` at the package root,
 * created from `python/requirements.lock` and re-created whenever that file or the base interpreter changes (a stamp
 * inside the venv holds the key). `ALIGNPROP_PYTHON` names another interpreter and is then used as it is.
 *
 *   node dist/src/python/env.js ensure          create or refresh .venv if needed (npm test runs this)
 *   node dist/src/python/env.js run <args...>   run the project's Python with <args> in python/ (e.g. -m pytest)
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PACKAGE_ROOT } from "../models/embedded.js";

export const PYTHON_DIR = join(PACKAGE_ROOT, "python");
export const VENV_DIR = join(PACKAGE_ROOT, ".venv");
const LOCK_FILE = join(PYTHON_DIR, "requirements.lock");
const STAMP_FILE = join(VENV_DIR, ".alignprop-env");
const MIN_VERSION: readonly [number, number] = [3, 10];
const BASE_CANDIDATES = ["python3.13", "python3.12", "python3.11", "python3.10", "python3", "python"];

export class PythonEnvError extends Error {
  override name = "PythonEnvError";
}

/** The interpreter the project runs Python with: `ALIGNPROP_PYTHON`, else the project venv's. */
export function projectPython(): string {
  const override = process.env.ALIGNPROP_PYTHON;
  if (override) return override;
  const venvPython = join(VENV_DIR, "bin", "python");
  if (!existsSync(venvPython)) {
    throw new PythonEnvError(
      `the project's Python environment is missing (${VENV_DIR}); create it with \`npm test\` or ` +
        "`node dist/src/python/env.js ensure`, or set ALIGNPROP_PYTHON to an interpreter with python/requirements.lock installed",
    );
  }
  return venvPython;
}

function versionOf(python: string): [number, number, number] | undefined {
  const r = spawnSync(python, ["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], { encoding: "utf8" });
  if (r.status !== 0) return undefined;
  const parts = r.stdout.trim().split(".").map(Number);
  return parts.length === 3 && parts.every(Number.isInteger) ? (parts as [number, number, number]) : undefined;
}

/** The first interpreter on PATH that is Python ≥ 3.10 and has venv, or a clear error naming what is missing. */
export function findBasePython(): { python: string; version: string } {
  const seen: string[] = [];
  for (const candidate of BASE_CANDIDATES) {
    const v = versionOf(candidate);
    if (!v) continue;
    seen.push(`${candidate} ${v.join(".")}`);
    if (v[0] > MIN_VERSION[0] || (v[0] === MIN_VERSION[0] && v[1] >= MIN_VERSION[1])) {
      const venv = spawnSync(candidate, ["-c", "import venv, ensurepip"], { encoding: "utf8" });
      if (venv.status !== 0) {
        seen.push(`${candidate} lacks the venv/ensurepip modules (Debian: apt-get install python3-venv)`);
        continue;
      }
      return { python: candidate, version: v.join(".") };
    }
  }
  throw new PythonEnvError(
    `Python ${MIN_VERSION.join(".")} or newer with venv is required for the PyTorch engine and the numerical ` +
      `oracle tests; found ${seen.length ? seen.join("; ") : "no python3 on PATH"}. Install it (Debian: ` +
      "apt-get install python3 python3-venv) or set ALIGNPROP_PYTHON to a prepared interpreter.",
  );
}

function envKey(baseVersion: string): string {
  return createHash("sha256").update(readFileSync(LOCK_FILE)).update(`\0python ${baseVersion}`).digest("hex");
}

function run(cmd: string, args: readonly string[], cwd = PACKAGE_ROOT): void {
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit" });
  if (r.status !== 0) throw new PythonEnvError(`${cmd} ${args.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Makes `.venv` match `python/requirements.lock`: nothing to do when its stamp matches, else a fresh venv with every
 * pinned package (about a minute where the torch wheel lies on disk). Returns the interpreter to use.
 */
export function ensurePythonEnv(log: (line: string) => void = (l) => process.stderr.write(l + "\n")): string {
  if (process.env.ALIGNPROP_PYTHON) {
    log(`python env: using ALIGNPROP_PYTHON=${process.env.ALIGNPROP_PYTHON} as it is`);
    return process.env.ALIGNPROP_PYTHON;
  }
  const base = findBasePython();
  const key = envKey(base.version);
  const venvPython = join(VENV_DIR, "bin", "python");
  if (existsSync(venvPython) && existsSync(STAMP_FILE) && readFileSync(STAMP_FILE, "utf8").trim() === key) {
    return venvPython;
  }
  log(`python env: creating ${VENV_DIR} from python/requirements.lock with ${base.python} ${base.version}`);
  rmSync(VENV_DIR, { recursive: true, force: true });
  run(base.python, ["-m", "venv", VENV_DIR]);
  run(venvPython, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", LOCK_FILE]);
  writeFileSync(STAMP_FILE, key + "\n");
  log("python env: ready");
  return venvPython;
}

function main(argv: readonly string[]): number {
  const [verb, ...rest] = argv;
  try {
    if (verb === "ensure") {
      ensurePythonEnv();
      return 0;
    }
    if (verb === "run") {
      const r = spawnSync(projectPython(), rest, { cwd: PYTHON_DIR, stdio: "inherit" });
      return r.status ?? 1;
    }
  } catch (err) {
    process.stderr.write(`alignprop python env: ${(err as Error).message}\n`);
    return 1;
  }
  process.stderr.write("usage: node dist/src/python/env.js ensure | run <python args...>\n");
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exit(main(process.argv.slice(2)));
