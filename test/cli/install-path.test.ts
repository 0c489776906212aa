/**
 * The README's ways to get the `alignprop` command from a clone work as written: the built CLI is executable,
 * `npx alignprop` runs it from the checkout, and `npm link` puts a working `alignprop` on the PATH (into a private
 * prefix here, so the test touches nothing global).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { execa } from "execa";
import { PACKAGE_ROOT } from "../../src/models/embedded.js";
import { CLI } from "../helpers/cli.js";

const prefix = mkdtempSync(join(tmpdir(), "alignprop-link-"));
after(() => rmSync(prefix, { recursive: true, force: true }));

test("the built CLI has its execute bits and runs directly through its shebang", async () => {
  assert.equal(statSync(CLI).mode & 0o111, 0o111, `${CLI} is not executable`);
  const r = await execa(CLI, ["--help"], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^alignprop — /);
});

test("npx alignprop runs the checkout's CLI without installing anything", async () => {
  const r = await execa("npx", ["--offline", "alignprop", "--help"], { cwd: PACKAGE_ROOT, reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /usage: alignprop <command>/);
});

test("npm link puts an alignprop command on the PATH that runs the checkout's build", async () => {
  const env = { npm_config_prefix: prefix };
  const link = await execa("npm", ["link", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: PACKAGE_ROOT, env, reject: false });
  assert.equal(link.exitCode, 0, link.stderr);
  const r = await execa(join(prefix, "bin", "alignprop"), ["train", "--help"], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /train_learning_rate/);
});
