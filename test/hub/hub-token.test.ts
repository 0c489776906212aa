/**
 * The Hub token is found where huggingface_hub finds it: the same environments give the same token (or none) to
 * src/io/hub-token.ts and to huggingface_hub's own `get_token()` from the project's Python environment.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { findHubToken, hubTokenPath } from "../../src/io/hub-token.js";
import { projectPython } from "../../src/python/env.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-token-"));
after(() => rmSync(root, { recursive: true, force: true }));

const home = join(root, "hf-home");
mkdirSync(home);
writeFileSync(join(home, "token"), "hf_fromloginfile\n");
const other = join(root, "elsewhere", "my-token");
mkdirSync(join(root, "elsewhere"));
writeFileSync(other, "  hf_fromtokenpath  ");
mkdirSync(join(root, "xdg", "huggingface"), { recursive: true });
writeFileSync(join(root, "xdg", "huggingface", "token"), "hf_fromxdg");
const emptyHome = join(root, "empty-home");
mkdirSync(emptyHome);
writeFileSync(join(emptyHome, "token"), "\n");

/** Environments over the precedence: option, HF_TOKEN, HUGGING_FACE_HUB_TOKEN, HF_TOKEN_PATH, HF_HOME/token, XDG. */
const cases: Array<[string, NodeJS.ProcessEnv, string | undefined]> = [
  ["HF_TOKEN wins over the file", { HF_HOME: home, HF_TOKEN: "hf_fromenv" }, "hf_fromenv"],
  ["HF_TOKEN is trimmed", { HF_HOME: home, HF_TOKEN: " hf_fromenv\n" }, "hf_fromenv"],
  ["an empty HF_TOKEN falls through to the file", { HF_HOME: home, HF_TOKEN: "" }, "hf_fromloginfile"],
  ["the older HUGGING_FACE_HUB_TOKEN", { HF_HOME: home, HUGGING_FACE_HUB_TOKEN: "hf_oldname" }, "hf_oldname"],
  ["the file `hf auth login` writes under HF_HOME", { HF_HOME: home }, "hf_fromloginfile"],
  ["HF_TOKEN_PATH names another file", { HF_HOME: home, HF_TOKEN_PATH: other }, "hf_fromtokenpath"],
  ["XDG_CACHE_HOME/huggingface/token when HF_HOME is unset", { XDG_CACHE_HOME: join(root, "xdg") }, "hf_fromxdg"],
  ["an empty token file is no token", { HF_HOME: emptyHome }, undefined],
  ["no file, no variable", { HF_HOME: join(root, "nothing-here") }, undefined],
];

test("the token is found in huggingface_hub's order", () => {
  for (const [what, env, expected] of cases) assert.equal(findHubToken(undefined, "--token", env)?.token, expected, what);
  assert.deepEqual(findHubToken("hf_option", "--token", { HF_TOKEN: "hf_fromenv" }), { token: "hf_option", source: "--token" });
  assert.deepEqual(findHubToken(undefined, "--token", { HF_HOME: home }), { token: "hf_fromloginfile", source: join(home, "token") });
  assert.equal(hubTokenPath({ HF_HOME: "~/hf" }), join(process.env.HOME ?? "", "hf", "token"), "~ is expanded as Python's expanduser does");
});

test("huggingface_hub's get_token() agrees on every case", () => {
  const script = "from huggingface_hub import get_token; print(repr(get_token()))";
  for (const [what, env, expected] of cases) {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(HF_|HUGGING_FACE_|XDG_CACHE_HOME$)/.test(k)));
    const fromPython = execFileSync(projectPython(), ["-c", script], { env: { ...clean, ...env }, encoding: "utf8" }).trim();
    assert.equal(fromPython, expected === undefined ? "None" : `'${expected}'`, what);
  }
});
