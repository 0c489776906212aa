/**
 * The project's Python environment: `ensure` names what is missing when no Python ≥ 3.10 with venv is on the PATH,
 * and the environment npm test made is the one `projectPython()` answers with (or ALIGNPROP_PYTHON's).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { projectPython, VENV_DIR } from "../../src/python/env.js";

const ENV_JS = fileURLToPath(new URL("../../src/python/env.js", import.meta.url));
const bin = mkdtempSync(join(tmpdir(), "alignprop-pyenv-"));
after(() => rmSync(bin, { recursive: true, force: true }));
symlinkSync(process.execPath, join(bin, "node"));

async function ensureWithPath(): Promise<{ exitCode: number | undefined; stderr: string }> {
  const env = { PATH: bin, HOME: bin, ALIGNPROP_PYTHON: "" };
  const r = await execa(join(bin, "node"), [ENV_JS, "ensure"], { env, extendEnv: false, reject: false });
  return { exitCode: r.exitCode, stderr: String(r.stderr) };
}

test("with no Python on the PATH, ensure fails with a message naming the requirement and the fix", async () => {
  const r = await ensureWithPath();
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /Python 3\.10 or newer with venv is required/);
  assert.match(r.stderr, /found no python3 on PATH/);
  assert.match(r.stderr, /ALIGNPROP_PYTHON/);
});

test("an old python3 is named with its version and not used", async () => {
  const fake = join(bin, "python3");
  writeFileSync(fake, "#!/bin/sh\necho 3.8.18\n", { mode: 0o755 });
  try {
    const r = await ensureWithPath();
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /found python3 3\.8\.18/);
  } finally {
    rmSync(fake);
  }
});

test("the interpreter is the project venv's, or ALIGNPROP_PYTHON when set", () => {
  const saved = process.env.ALIGNPROP_PYTHON;
  try {
    delete process.env.ALIGNPROP_PYTHON;
    assert.equal(projectPython(), join(VENV_DIR, "bin", "python"));
    process.env.ALIGNPROP_PYTHON = "/opt/my/python";
    assert.equal(projectPython(), "/opt/my/python");
  } finally {
    if (saved === undefined) delete process.env.ALIGNPROP_PYTHON;
    else process.env.ALIGNPROP_PYTHON = saved;
  }
});
