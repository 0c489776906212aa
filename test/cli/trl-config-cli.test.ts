/**
 * `alignprop train --config <TRL's saved config>` trains as it is (issue 19): the exact files of test/fixtures/trl/,
 * with only the fast settings on top. The fields TF.js cannot honour that they set (fp16, TF32) each reach the user
 * once: in the --ci JSON events, in the --ci summary on stderr, and in the run's events.jsonl; `--help` lists them.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { alignprop } from "../helpers/cli.js";
import { TINY_RUN_FLAGS } from "../helpers/tiny-model.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/trl/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "alignprop-trl-cli-"));
const runsDir = join(dir, "runs");
after(() => rmSync(dir, { recursive: true, force: true }));

/** The tests' fast real run for one epoch; the file's truncation fields (TRL's 49 and [0, 50]) set for its 2 steps. */
const fast = () => [...TINY_RUN_FLAGS, "--runs_dir", runsDir, "--num_epochs", "1",
  "--truncated_backprop_timestep", "1", "--truncated_rand_backprop_minmax", "0,2"];

interface EventLine {
  log?: { level?: string; message: string };
  metrics?: { step: number };
  status?: { state?: string };
}

const FP16 = 'mixed_precision="fp16" is ignored: TF.js trains in fp32; --engine torch honours it';
const TF32 = "allow_tf32=true is ignored: TF.js has no switch for TF32 matmuls; --engine torch honours it";

function warningsIn(events: readonly EventLine[]): string[] {
  return events.flatMap((e) => (e.log?.level === "LOG_LEVEL_WARN" ? [e.log.message] : []));
}

async function trainsUnchanged(file: string, extra: string[], runName: string): Promise<void> {
  const r = await alignprop(["train", "--config", file, ...fast(), ...extra, "--run_name", runName, "--ci"]);
  assert.equal(r.exitCode, 0, String(r.stderr));
  const events = String(r.stdout).trim().split("\n").map((line) => JSON.parse(line) as EventLine);
  assert.equal(events.filter((e) => e.metrics).length, 1, "one epoch trained");
  assert.equal(events.at(-1)!.status!.state, "RUN_STATE_DONE");
  assert.deepEqual(warningsIn(events), [FP16, TF32], "each unhonoured field once, in the --ci events");
  const stderr = String(r.stderr);
  for (const warning of [FP16, TF32]) {
    assert.equal(stderr.split(`warning: ${warning}\n`).length - 1, 1, `once on stderr: ${warning}\n${stderr}`);
  }
  const logged = readFileSync(join(runsDir, runName, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as EventLine);
  assert.deepEqual(warningsIn(logged), [FP16, TF32], "and in the run's events.jsonl, for attach and the report");
}

test("TRL's AlignPropConfig dictionary trains as it is: exit 0, with one warning per field TF.js cannot honour", async () => {
  await trainsUnchanged(fixture("alignprop_config.json"), [], "trl-alignprop");
});

test("TRL's DDPOConfig dictionary trains with --algorithm ddpo as it is", async () => {
  // The file's own train_batch_size (1) again: DDPO's sample_batch_size (1) must be a multiple of it.
  await trainsUnchanged(fixture("ddpo_config.json"), ["--algorithm", "ddpo", "--train_batch_size", "1"], "trl-ddpo");
});

test('log_with="wandb" on TF.js exits 2 naming the field and pointing at --engine torch, and creates no run directory', async () => {
  const before = readdirSync(runsDir).length;
  const r = await alignprop(["train", "--config", fixture("alignprop_config.json"), ...fast(), "--log_with", "wandb"]);
  assert.equal(r.exitCode, 2);
  assert.match(String(r.stderr), /log_with: "wandb" needs --engine torch .*: the tfjs engine has no wandb client; or use "tensorboard"/);
  assert.equal(readdirSync(runsDir).length, before);
});

test("train --help lists, per engine, every field the engine accepts but cannot honour", async () => {
  const r = await alignprop(["train", "--help"]);
  assert.equal(r.exitCode, 0);
  const help = String(r.stdout);
  const section = help.slice(help.indexOf("Fields an engine accepts but cannot honour"));
  assert.match(section, /^  tfjs:$/m);
  for (const field of ["mixed_precision", "allow_tf32", "train_use_8bit_adam", "log_with", "tracker_kwargs", "accelerator_kwargs", "project_kwargs", "async_reward_computation", "max_workers"]) {
    assert.match(section.slice(0, section.indexOf("  torch:")), new RegExp(`^    .*\\b${field}\\b`, "m"), field);
  }
  const torch = section.slice(section.indexOf("  torch:"));
  assert.match(torch, /^    train_use_8bit_adam .*torch\.optim\.AdamW/m);
  for (const honoured of ["log_with", "mixed_precision", "allow_tf32", "tracker_kwargs", "accelerator_kwargs", "project_kwargs"]) {
    assert.doesNotMatch(torch, new RegExp(`\\b${honoured}\\b`), `torch honours ${honoured}`);
  }
});
