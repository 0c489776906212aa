/**
 * What a new user meets when something is wrong before or as training starts: one message, once; exit 2 for usage
 * and 1 for runtime failures; no half-written run folder; a reward blamed for its own NaN; model defaults that travel
 * with the model folder; trainer.log always; no socket folder left behind.
 */
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { PACKAGE_ROOT } from "../../src/models/embedded.js";
import { alignprop } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "alignprop-startup-"));
after(() => rmSync(root, { recursive: true, force: true }));
const runsDir = join(root, "runs");
mkdirSync(runsDir);
/** Tiny-shapes at its fastest: two DDIM steps, one image per step. */
const fast = ["--runs_dir", runsDir, "--sample_num_steps", "2", "--train_batch_size", "1", "--save_freq", "1000", "--eval_freq", "0"];
const count = (text: string, part: string) => text.split(part).length - 1;

function module(name: string, source: string): string {
  const path = join(root, name);
  writeFileSync(path, source);
  return path;
}

test("mistakes visible before a run starts exit 2 with one message each and leave no run folder", async () => {
  const empty = join(root, "empty-model");
  mkdirSync(empty);
  const cases: Array<[string[], string]> = [
    [["--model", join(root, "does-not-exist")], `model="${join(root, "does-not-exist")}": no such folder`],
    [["--model", empty], `has no model_index.json; a pipeline folder is in diffusers' layout`],
    [["--model", join(PACKAGE_ROOT, "README.md")], "is a file; a pipeline is a folder"],
    [["--reward", "nonexistent"], 'reward="nonexistent" is neither a built-in'],
    [["--reward", "./missing-reward.js"], 'reward="./missing-reward.js": no such reward module'],
    [["--push_to_hub", "true", "--hub_model_id", "me/lora"], "push_to_hub=true: no Hub token: set HF_TOKEN"],
    [["--push_to_hub", "true"], 'push_to_hub=true needs hub_model_id="namespace/name"'],
    [["--push_to_hub", "true", "--hub_model_id", "no-namespace"], 'push_to_hub=true: hub_model_id="no-namespace" is not a Hub repo id'],
  ];
  for (const [args, message] of cases) {
    const r = await alignprop(["train", "--ci", ...fast, ...args], { env: { HF_TOKEN: "", HF_TOKEN_PATH: join(root, "no-token-file") } });
    const err = String(r.stderr);
    assert.equal(r.exitCode, 2, `${args.join(" ")}: ${err}`);
    assert.equal(count(err, message), 1, `${args.join(" ")} says it once:\n${err}`);
    assert.deepEqual(readdirSync(runsDir), [], `${args.join(" ")} leaves no run folder`);
  }
});

test("resume errors are usage errors (exit 2)", async () => {
  const r = await alignprop(["train", "--ci", "--resume", join(root, "no-such-run")]);
  assert.equal(r.exitCode, 2, String(r.stderr));
  assert.match(String(r.stderr), /no such directory/);
});

test("a truncated weights file fails the run while loading: exit 1, the error once, and no run folder", async () => {
  const model = join(root, "truncated");
  cpSync(join(PACKAGE_ROOT, "models", "tiny-shapes"), model, { recursive: true });
  truncateSync(join(model, "unet", "diffusion_pytorch_model.safetensors"), 5000);
  const r = await alignprop(["train", "--ci", ...fast, "--model", model]);
  const err = String(r.stderr);
  assert.equal(r.exitCode, 1, err);
  assert.equal(count(err, "runs past the end of the 5000-byte file"), 1, err);
  assert.match(err, /no step was trained: removed /);
  assert.deepEqual(readdirSync(runsDir), []);
});

test("a reward module that throws fails the run while loading: exit 1, its message once, no run folder", async () => {
  const reward = module("throws.mjs", 'export default function reward() { throw new Error("my reward is broken"); }\n');
  const r = await alignprop(["train", "--ci", ...fast, "--reward", reward]);
  const err = String(r.stderr);
  assert.equal(r.exitCode, 1, err);
  assert.equal(count(err, "my reward is broken"), 1, err);
  assert.deepEqual(readdirSync(runsDir), []);
});

test("a reward that is NaN from the start is named with its values, not [null,null]", async () => {
  const reward = module("nan.mjs", 'import * as tf from "@tensorflow/tfjs";\nexport default (images) => tf.div(tf.mean(images, [1, 2, 3]), 0).mul(0);\n');
  // The module imports tfjs: it must resolve from the package.
  const inPackage = join(PACKAGE_ROOT, `.test-nan-${process.pid}.mjs`);
  cpSync(reward, inPackage);
  try {
    const r = await alignprop(["train", "--ci", ...fast, "--reward", inPackage]);
    assert.equal(r.exitCode, 1);
    assert.match(String(r.stderr), /returned non-finite rewards \[NaN, NaN\] for a probe batch of finite images; the reward is at fault/);
    assert.doesNotMatch(String(r.stderr), /null/);
  } finally {
    rmSync(inPackage);
  }
});

test("a reward that turns NaN during training is blamed by name with the step, not the learning rate", async () => {
  // Two probe calls while loading, then one call per step: NaN from step 3 on.
  const inPackage = join(PACKAGE_ROOT, `.test-nan-later-${process.pid}.mjs`);
  writeFileSync(inPackage, 'import * as tf from "@tensorflow/tfjs";\nlet calls = 0;\nexport default (images) => { calls++; const m = tf.mean(images, [1, 2, 3]); return calls > 4 ? tf.div(m, 0).mul(0) : m; };\n');
  try {
    const r = await alignprop(["train", "--ci", ...fast, "--run_name", "nan-later", "--num_epochs", "5", "--reward", inPackage]);
    const err = String(r.stderr);
    assert.equal(r.exitCode, 1, err);
    assert.match(err, new RegExp(`step 3: reward "${inPackage.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" returned NaN for image 1 of 1 \\(prompt "[^"]+"\\), an image with finite pixels: the reward is at fault, not the training`));
    assert.doesNotMatch(err, /train_learning_rate/);
    assert.ok(existsSync(join(runsDir, "nan-later", "events.jsonl")), "a run that trained keeps its folder");
  } finally {
    rmSync(inPackage);
    rmSync(join(runsDir, "nan-later"), { recursive: true, force: true });
  }
});

test("model defaults travel with the folder: a copy of tiny-shapes given as a path trains on its reward and prompts", async () => {
  const model = join(root, "my-tiny-shapes");
  cpSync(join(PACKAGE_ROOT, "models", "tiny-shapes"), model, { recursive: true });
  const r = await alignprop(["train", "--ci", ...fast, "--run_name", "by-path", "--num_epochs", "1", "--model", model]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const events = String(r.stdout).trim().split("\n").map((l) => JSON.parse(l) as { status?: { state: string; message: string }; images?: { images: { promptMetadataJson: string }[] } });
  const running = events.find((e) => e.status?.state === "RUN_STATE_RUNNING")!;
  assert.match(running.status!.message, /reward tiny-aesthetic\)/);
  const metadata = JSON.parse(events.find((e) => e.images)!.images!.images[0]!.promptMetadataJson) as Record<string, unknown>;
  assert.ok("shape" in metadata && "colour" in metadata, `the shapes prompts, not animals: ${JSON.stringify(metadata)}`);
  rmSync(join(runsDir, "by-path"), { recursive: true, force: true });
});

test("every run has trainer.log, and its private socket folder is gone when the CLI exits", async () => {
  const temp = join(root, "tmp");
  mkdirSync(temp);
  const r = await alignprop(["train", "--ci", ...fast, "--run_name", "quiet", "--num_epochs", "1"], { env: { TMPDIR: temp } });
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.ok(existsSync(join(runsDir, "quiet", "trainer.log")));
  assert.deepEqual(readdirSync(temp).filter((n) => n.startsWith("alignprop-")), []);

  const resumed = await alignprop(["train", "--ci", "--resume", join(runsDir, "quiet"), "--num_epochs", "2"], { env: { TMPDIR: temp } });
  assert.equal(resumed.exitCode, 0, String(resumed.stderr));
  assert.doesNotMatch(String(resumed.stderr), /allow_tf32|mixed_precision/, "resume warns only about fields set now");
  assert.deepEqual(readdirSync(temp).filter((n) => n.startsWith("alignprop-")), []);
  rmSync(join(runsDir, "quiet"), { recursive: true, force: true });
});

test("an over-long prompt gets one warning naming the token limit", async () => {
  const prompts = join(root, "long-prompts.txt");
  writeFileSync(prompts, `${Array(30).fill("a red circle").join(" ")}\n`);
  const r = await alignprop(["train", "--ci", ...fast, "--run_name", "long", "--num_epochs", "3", "--prompts", prompts]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const warnings = String(r.stderr).split("\n").filter((l) => l.startsWith("warning: prompt"));
  assert.equal(warnings.length, 1, String(r.stderr));
  assert.match(warnings[0]!, /has 90 tokens but the text encoder reads 14 \(model_max_length=16/);
  assert.equal(readFileSync(join(runsDir, "long", "events.jsonl"), "utf8").split("has 90 tokens").length - 1, 1);
  rmSync(join(runsDir, "long"), { recursive: true, force: true });
});

test("--logdir is not described as the checkpoint directory", async () => {
  const r = await alignprop(["train", "--help"]);
  const line = String(r.stdout).split("\n").find((l) => l.startsWith("logdir"))!;
  assert.match(line, /checkpoints go to runs_dir\/<run name>\/checkpoints/);
});
