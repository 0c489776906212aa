/** Clear, short messages (exit 2) for the mistakes `sample` and `ping` used to answer with raw errors. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PACKAGE_ROOT } from "../../src/models/embedded.js";
import { alignprop } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-messages-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const sample = (...args: string[]) => alignprop(["sample", "--prompt", "a red circle", "--steps", "2", ...args]);

test("sample without --out says the flag is required", async () => {
  const r = await alignprop(["sample", "--prompt", "a red circle"]);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /--out is required/);
  assert.doesNotMatch(String(r.stderr), /undefined/);
});

test("sample --out <existing folder> is refused before anything is written, leaving no temp file", async () => {
  const r = await sample("--out", dir);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), new RegExp(`--out="${dir}" is a folder; give the file to write \\(\\.png, or \\.safetensors for the float image\\), e.g. ${dir}/sample\\.png`));
  assert.deepEqual(readdirSync(dir), []);
  const missing = await sample("--out", join(dir, "no", "x.png"));
  assert.equal(missing.exitCode, 2);
  assert.match(String(missing.stderr), /the folder .*\/no does not exist/);
});

test("--lora on a file that is not safetensors, or on a model's weights, says what it is not, briefly", async () => {
  const readme = await sample("--out", join(dir, "a.png"), "--lora", join(PACKAGE_ROOT, "README.md"));
  assert.equal(readme.exitCode, 2);
  assert.match(String(readme.stderr), /--lora=".*README\.md": not a LoRA weights file \(pytorch_lora_weights\.safetensors\)/);
  const unet = await sample("--out", join(dir, "a.png"), "--lora", join(PACKAGE_ROOT, "models", "tiny-shapes", "unet", "diffusion_pytorch_model.safetensors"));
  const err = String(unet.stderr);
  assert.equal(unet.exitCode, 2);
  assert.match(err, /none of its 286 keys is a LoRA weight \(e\.g\. conv_in\.bias, conv_in\.weight, conv_norm_out\.bias\); is it a model's weights file rather than a LoRA\?/);
  assert.ok(err.length < 600, `no dump of every key (${err.length} characters)`);
  assert.deepEqual(readdirSync(dir), []);
});

test("sample warns once about a prompt longer than the text encoder reads", async () => {
  const r = await sample("--out", join(dir, "long.png"), "--prompt", Array(30).fill("a red circle").join(" "));
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.equal(String(r.stderr).split("model_max_length=16").length - 1, 1);
  rmSync(join(dir, "long.png"));
});

test("ping with something that is not an endpoint says what an endpoint looks like", async () => {
  const r = await alignprop(["ping", "not-an-endpoint"]);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /"not-an-endpoint" is not a control endpoint: expected ipc:\/\/<path> or tcp:\/\/<host>:<port>/);
});
