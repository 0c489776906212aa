/**
 * TRL's saved configs load unchanged (issue 19): `dataclasses.asdict(AlignPropConfig())` and `DDPOConfig()`'s, with
 * `null` for TRL's Optional fields and the three kwargs dicts; and every accepted field the TF.js engine cannot honour
 * earns one warning (or, for log_with="wandb", an error) rather than being ignored in silence.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

import { formatUnhonouredHelp, loadRunConfig, RunConfigSchema, UNHONOURED } from "../../src/config/index.js";
import { loadError } from "../helpers/config-error.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/trl/${name}`, import.meta.url));
const ALIGNPROP = fixture("alignprop_config.json");
const DDPO = fixture("ddpo_config.json");

const TF32 = "allow_tf32=true is ignored: TF.js has no switch for TF32 matmuls; --engine torch honours it";
const FP16 = 'mixed_precision="fp16" is ignored: TF.js trains in fp32; --engine torch honours it';

describe("a TRL config file", () => {
  it("AlignPropConfig's dictionary loads: null is TRL's default, the kwargs dicts are empty objects", () => {
    const { config, warnings } = loadRunConfig({ file: ALIGNPROP });
    const trl = JSON.parse(readFileSync(ALIGNPROP, "utf8")) as Record<string, unknown>;
    for (const [field, value] of Object.entries(trl)) {
      if (value !== null) assert.deepEqual(config[field as keyof typeof config], value, field);
    }
    assert.equal(config.log_with, "");
    assert.equal(config.negative_prompts, "");
    assert.deepEqual([config.tracker_kwargs, config.accelerator_kwargs, config.project_kwargs], [{}, {}, {}]);
    assert.deepEqual(warnings, [FP16, TF32], "the file sets fp16 and TF32, which TF.js cannot honour");
  });

  it("DDPOConfig's dictionary loads with algorithm ddpo, its async-reward fields and its negative_prompts \"\"", () => {
    const { config, warnings } = loadRunConfig({ file: DDPO, overrides: { algorithm: "ddpo" } });
    const trl = JSON.parse(readFileSync(DDPO, "utf8")) as Record<string, unknown>;
    for (const [field, value] of Object.entries(trl)) {
      if (value !== null) assert.deepEqual(config[field as keyof typeof config], value, field);
    }
    assert.equal(config.exp_name, "train_ddpo");
    assert.equal(config.run_name, "");
    assert.equal(config.async_reward_computation, false);
    assert.equal(config.max_workers, 2);
    assert.deepEqual(warnings, [FP16, TF32]);
  });

  it("null is the default for each TRL Optional field, run_name included (TRL's older Optional[str])", () => {
    const config = RunConfigSchema.parse({ log_with: null, negative_prompts: null, run_name: null });
    assert.deepEqual([config.log_with, config.negative_prompts, config.run_name], ["", "", ""]);
  });

  it("null for a field TRL never leaves None is still an error naming it", () => {
    const file = join(mkdtempSync(join(tmpdir(), "alignprop-trl-")), "config.json");
    writeFileSync(file, JSON.stringify({ seed: null, log_with: null }));
    const error = loadError({ file });
    assert.equal(error.message, "seed: got null; expected an integer ≥ 0");
    rmSync(dirname(file), { recursive: true });
  });

  it("a null flag clears an optional field the file set (unset again), and is an error naming a required one", () => {
    const file = join(mkdtempSync(join(tmpdir(), "alignprop-trl-")), "config.json");
    writeFileSync(file, JSON.stringify({ best_metric: "reward", best_min_fidelity: 0.75, eval_freq: 10, reward_target: 1 }));
    const { config } = loadRunConfig({ file, overrides: { best_metric: "", "best-min-fidelity": "null", eval_freq: "null", reward_target: "null" } });
    assert.deepEqual([config.best_min_fidelity, config.eval_freq, config.reward_target], [undefined, undefined, undefined]);
    assert.equal(loadRunConfig({ file }).config.best_min_fidelity, 0.75);
    assert.equal(loadError({ file, overrides: { num_epochs: "null" } }).message, "num_epochs: got null; expected an integer ≥ 1");
    rmSync(dirname(file), { recursive: true });
  });
});

describe("mixed_precision", () => {
  it('reads TRL\'s "none" as accelerate\'s "no", its one canonical value', () => {
    assert.equal(RunConfigSchema.parse({ mixed_precision: "none" }).mixed_precision, "no");
    assert.equal(RunConfigSchema.parse({ mixed_precision: "no" }).mixed_precision, "no");
    assert.equal(loadRunConfig({ overrides: { mixed_precision: "none" } }).config.mixed_precision, "no");
  });

  it("refuses other values, naming the field, the value and the choices", () => {
    const error = loadError({ overrides: { mixed_precision: "fp32" } });
    assert.match(error.message, /^mixed_precision: got "fp32"; expected one of "no", "fp16", "bf16"$/m);
  });

  it('"no" or "none" earns no warning; fp16 and bf16 do', () => {
    assert.deepEqual(loadRunConfig({ overrides: { mixed_precision: "none" } }).warnings, []);
    assert.deepEqual(loadRunConfig({ overrides: { mixed_precision: "bf16" } }).warnings, [
      'mixed_precision="bf16" is ignored: TF.js trains in fp32; --engine torch honours it',
    ]);
  });
});

describe("the kwargs dicts", () => {
  it("accept any JSON object, from a file or as JSON text on the command line", () => {
    const { config } = loadRunConfig({
      overrides: { tracker_kwargs: '{"wandb": {"entity": "me", "tags": ["a", 1, null]}}', project_kwargs: "{}" },
    });
    assert.deepEqual(config.tracker_kwargs, { wandb: { entity: "me", tags: ["a", 1, null] } });
    assert.deepEqual(config.project_kwargs, {});
  });

  it("refuse anything but an object, naming the field and the value", () => {
    const error = loadError({ overrides: { accelerator_kwargs: "[1]", tracker_kwargs: "not json" } });
    assert.match(error.message, /^accelerator_kwargs: got \[1\]; expected a JSON object such as \{"key": "value"\}$/m);
    assert.match(error.message, /^tracker_kwargs: got "not json"; expected a JSON object/m);
  });

  it("non-empty ones earn one warning on TF.js, naming each; empty ones none", () => {
    const { warnings } = loadRunConfig({
      overrides: { accelerator_kwargs: '{"split_batches": true}', project_kwargs: '{"logging_dir": "x"}', tracker_kwargs: "{}" },
    });
    assert.deepEqual(warnings, [
      "accelerator_kwargs, project_kwargs are ignored: accelerate reads them, and TF.js runs without it; --engine torch passes them to it",
    ]);
  });
});

describe("fields TF.js cannot honour", () => {
  it("earn one warning each when set, and none at their defaults", () => {
    assert.deepEqual(loadRunConfig().warnings, []);
    const { warnings } = loadRunConfig({
      overrides: { train_use_8bit_adam: "true", allow_tf32: "false", algorithm: "ddpo", async_reward_computation: "true", max_workers: "4" },
    });
    assert.deepEqual(warnings, [
      "allow_tf32=false is ignored: TF.js has no switch for TF32 matmuls; --engine torch honours it",
      "train_use_8bit_adam=true is ignored: TF.js has no 8-bit Adam, so AdamW keeps fp32 state",
      "async_reward_computation=true is ignored (and max_workers with it): TF.js computes DDPO's rewards in line",
    ]);
  });

  it('log_with="tensorboard" is honoured on TF.js: no warning', () => {
    assert.deepEqual(loadRunConfig({ overrides: { log_with: "tensorboard" } }).warnings, []);
  });

  it('log_with="wandb" on TF.js is an error that points at --engine torch (and at tensorboard)', () => {
    const error = loadError({ file: ALIGNPROP, overrides: { log_with: "wandb" } });
    assert.deepEqual(error.issues.map((issue) => issue.field), ["log_with"]);
    assert.match(error.message, /^log_with: "wandb" needs --engine torch \(which logs through accelerate's trackers\): the tfjs engine has no wandb client; or use "tensorboard"/m);
  });

  it("on the torch engine: log_with (wandb too), mixed precision, TF32 and the kwargs dicts are honoured; 8-bit Adam and async DDPO rewards earn a warning", () => {
    const { config, warnings } = loadRunConfig({
      file: ALIGNPROP,
      overrides: {
        engine: "torch",
        log_with: "wandb",
        train_use_8bit_adam: "true",
        mixed_precision: "bf16",
        allow_tf32: "false",
        tracker_kwargs: '{"wandb": {"tags": ["x"]}}',
        accelerator_kwargs: '{"split_batches": true}',
        project_kwargs: '{"logging_dir": "x"}',
        algorithm: "ddpo",
        async_reward_computation: "true",
      },
    });
    assert.deepEqual([config.engine, config.log_with], ["torch", "wandb"]);
    assert.deepEqual(warnings, [
      "train_use_8bit_adam=true is ignored: the torch engine uses torch.optim.AdamW, so AdamW keeps fp32 state",
      "async_reward_computation=true is ignored (and max_workers with it): the torch engine computes DDPO's rewards in line",
    ]);
  });

  it("are all listed for --help under the engine, each with what happens instead", () => {
    const help = formatUnhonouredHelp();
    for (const field of UNHONOURED.tfjs.flatMap((entry) => entry.fields)) {
      assert.match(help, new RegExp(`^  tfjs:[\\s\\S]*\\b${field}\\b[\\s\\S]*^  torch:`, "m"), field);
    }
    for (const field of ["mixed_precision", "allow_tf32", "train_use_8bit_adam", "log_with", "tracker_kwargs", "accelerator_kwargs", "project_kwargs", "async_reward_computation", "max_workers"]) {
      assert.ok(UNHONOURED.tfjs.some((entry) => entry.fields.includes(field as never)), `${field} is listed for tfjs`);
    }
    assert.match(help, /log_with .*"wandb" is refused \(an error\).*--engine torch logs to it.*"tensorboard" is honoured/);
  });
});
