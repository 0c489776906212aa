import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";

import {
  DEFAULT_RUN_CONFIG,
  loadRunConfig,
  type LoadRunConfigOptions,
} from "../../src/config/index.js";
import { loadError } from "../helpers/config-error.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function configFile(contents: unknown): string {
  const file = join(dir, `config-${fileCount++}.json`);
  writeFileSync(file, typeof contents === "string" ? contents : JSON.stringify(contents));
  return file;
}

describe("loadRunConfig", () => {
  it("returns the defaults and no warnings when given nothing", () => {
    assert.deepEqual(loadRunConfig(), { config: DEFAULT_RUN_CONFIG, warnings: [] });
  });

  it("lays the file over the defaults and the overrides over the file", () => {
    const file = configFile({ num_epochs: 10, seed: 3, run_name: "from-file" });
    const { config } = loadRunConfig({ file, overrides: { num_epochs: "20" } });
    assert.equal(config.num_epochs, 20);
    assert.equal(config.seed, 3);
    assert.equal(config.run_name, "from-file");
    assert.equal(config.train_batch_size, DEFAULT_RUN_CONFIG.train_batch_size);
  });

  it("reads kebab-case override keys as the snake_case field", () => {
    const { config } = loadRunConfig({ overrides: { "num-epochs": "7", "train-learning-rate": "3e-4" } });
    assert.equal(config.num_epochs, 7);
    assert.equal(config.train_learning_rate, 3e-4);
  });

  it("coerces override strings to numbers by the field's type", () => {
    const { config } = loadRunConfig({ overrides: { sample_eta: "0.5", lora_alpha: " 8 ", reward_target: "-1.5" } });
    assert.equal(config.sample_eta, 0.5);
    assert.equal(config.lora_alpha, 8);
    assert.equal(config.reward_target, -1.5);
  });

  it("reads true/false, 1/0 and yes/no as booleans", () => {
    const cases: [string | number | boolean, boolean][] = [
      ["true", true],
      ["FALSE", false],
      ["1", true],
      ["0", false],
      ["yes", true],
      ["no", false],
      [1, true],
      [false, false],
    ];
    for (const [value, expected] of cases) {
      assert.equal(loadRunConfig({ overrides: { push_to_hub: value } }).config.push_to_hub, expected, String(value));
    }
  });

  it("reads the truncation range as 0,50 or [0,50] or a list of strings", () => {
    for (const value of ["0,40", "[0, 40]", ["0", "40"]]) {
      const { config } = loadRunConfig({ overrides: { truncated_rand_backprop_minmax: value } });
      assert.deepEqual(config.truncated_rand_backprop_minmax, [0, 40], String(value));
    }
  });

  it("reads a comma list as a string array", () => {
    const { config } = loadRunConfig({ overrides: { "lora-target-modules": "to_q, to_v" } });
    assert.deepEqual(config.lora_target_modules, ["to_q", "to_v"]);
  });

  it("keeps a numeric-looking value of a string field as a string", () => {
    assert.equal(loadRunConfig({ overrides: { run_name: 42 } }).config.run_name, "42");
  });

  it("moves the truncation defaults along with sample_num_steps when they are not set", () => {
    const { config } = loadRunConfig({ overrides: { sample_num_steps: "20" } });
    assert.equal(config.truncated_backprop_timestep, 19);
    assert.deepEqual(config.truncated_rand_backprop_minmax, [0, 20]);
  });

  it("keeps explicitly set truncation values when sample_num_steps changes", () => {
    const file = configFile({ truncated_backprop_timestep: 5, truncated_rand_backprop_minmax: [2, 8] });
    const { config } = loadRunConfig({ file, overrides: { sample_num_steps: 20 } });
    assert.equal(config.truncated_backprop_timestep, 5);
    assert.deepEqual(config.truncated_rand_backprop_minmax, [2, 8]);
  });
});

describe("loadRunConfig errors", () => {
  const missingFile = join(dir, "missing.json");
  const invalidJsonFile = configFile('{"num_epochs": 10,}');
  const arrayFile = configFile([1, 2]);
  const cases: { name: string; options: LoadRunConfigOptions; field: string; mentions: string[] }[] = [
    {
      name: "suggests the field an unknown key was probably meant to be",
      options: { overrides: { num_epoch: 3 } },
      field: "num_epoch",
      mentions: ["unknown field", 'did you mean "num_epochs"?'],
    },
    {
      name: "suggests the longer TRL name for a familiar short one",
      options: { file: configFile({ batch_size: 4 }) },
      field: "batch_size",
      mentions: ['did you mean "train_batch_size"?'],
    },
    {
      name: "names a value of the wrong type and the type wanted",
      options: { file: configFile({ num_epochs: "ten" }) },
      field: "num_epochs",
      mentions: ['"ten"', "an integer ≥ 1"],
    },
    {
      name: "rejects a negative number of epochs",
      options: { overrides: { "num-epochs": "-3" } },
      field: "num_epochs",
      mentions: ["-3", "an integer ≥ 1"],
    },
    {
      name: "rejects a fractional batch size",
      options: { overrides: { train_batch_size: 1.5 } },
      field: "train_batch_size",
      mentions: ["1.5", "an integer ≥ 1"],
    },
    {
      name: "rejects a truncation range that ends past the last step",
      options: { overrides: { truncated_rand_backprop_minmax: "0,60" } },
      field: "truncated_rand_backprop_minmax",
      mentions: ["max=60 exceeds sample_num_steps=50", "0 ≤ min ≤ max ≤ 50"],
    },
    {
      name: "rejects a truncation range that starts below zero",
      options: { overrides: { truncated_rand_backprop_minmax: "-1,10" } },
      field: "truncated_rand_backprop_minmax",
      mentions: ["min=-1 is negative"],
    },
    {
      name: "rejects a truncation range whose min exceeds its max",
      options: { overrides: { truncated_rand_backprop_minmax: "[30,20]" } },
      field: "truncated_rand_backprop_minmax",
      mentions: ["min=30 exceeds max=20"],
    },
    {
      name: "rejects a truncation range that is not two integers",
      options: { overrides: { truncated_rand_backprop_minmax: "0,a" } },
      field: "truncated_rand_backprop_minmax",
      mentions: ['"0,a"', "two integers [min, max]"],
    },
    {
      name: "rejects a fixed truncation step at or past sample_num_steps",
      options: { file: configFile({ sample_num_steps: 10, truncated_backprop_timestep: 10 }) },
      field: "truncated_backprop_timestep",
      mentions: ["10 is not below sample_num_steps=10", "[0, 9]"],
    },
    {
      name: "lists the allowed values of an enum",
      options: { overrides: { mixed_precision: "fp32" } },
      field: "mixed_precision",
      mentions: ['"fp32"', '"no", "fp16", "bf16"'],
    },
    {
      name: "suggests the enum value a near miss was meant to be",
      options: { overrides: { backend: "tensorflow_gpu" } },
      field: "backend",
      mentions: ['"tensorflow_gpu"', 'did you mean "tensorflow-gpu"?'],
    },
    {
      name: "rejects a beta of 1",
      options: { overrides: { train_adam_beta2: "1" } },
      field: "train_adam_beta2",
      mentions: ["got 1", "a number in [0, 1)"],
    },
    {
      name: "rejects a boolean flag it cannot read",
      options: { overrides: { push_to_hub: "maybe" } },
      field: "push_to_hub",
      mentions: ['"maybe"', "true or false"],
    },
    {
      name: "rejects the target loss without a reward target",
      options: { overrides: { loss: "target" } },
      field: "reward_target",
      mentions: ['loss="target"', "set reward_target"],
    },
    {
      name: "names a config file that does not exist",
      options: { file: missingFile },
      field: missingFile,
      mentions: ["config file not found"],
    },
    {
      name: "names a config file that is not valid JSON",
      options: { file: invalidJsonFile },
      field: invalidJsonFile,
      mentions: ["not valid JSON"],
    },
    {
      name: "names a config file that holds an array instead of an object",
      options: { file: arrayFile },
      field: arrayFile,
      mentions: ["holds an array", "expected an object"],
    },
  ];

  for (const { name, options, field, mentions } of cases) {
    it(name, () => {
      const error = loadError(options);
      assert.deepEqual(
        error.issues.map((issue) => issue.field),
        [field],
      );
      const line = error.message;
      assert.ok(line.startsWith(`${field}: `), line);
      for (const mention of mentions) assert.ok(line.includes(mention), `${JSON.stringify(mention)} not in: ${line}`);
    });
  }

  it("reports every bad field at once, one line each", () => {
    const file = configFile({ num_epochs: 0, seed: "x", sample_eta: 2, epochs: 5 });
    const error = loadError({ file, overrides: { train_batch_size: "1.5", truncated_backprop_timestep: 99 } });
    const fields = error.issues.map((issue) => issue.field).sort();
    assert.deepEqual(fields, [
      "epochs",
      "num_epochs",
      "sample_eta",
      "seed",
      "train_batch_size",
      "truncated_backprop_timestep",
    ]);
    assert.equal(error.message.split("\n").length, fields.length);
  });

  it("reports a field with several problems only once", () => {
    const error = loadError({ overrides: { lora_target_modules: ["", ""] } });
    assert.deepEqual(
      error.issues.map((issue) => issue.field),
      ["lora_target_modules"],
    );
  });
});

describe("loadRunConfig warnings", () => {
  it("warns about every TF.js-meaningless field the user set explicitly", () => {
    const file = configFile({ allow_tf32: true, mixed_precision: "bf16" });
    const { warnings } = loadRunConfig({ file, overrides: { train_use_8bit_adam: "yes", log_with: "tensorboard" } });
    assert.equal(warnings.length, 3);
    const joined = warnings.join("\n");
    const mentions = ["train_use_8bit_adam=true", "allow_tf32=true", 'mixed_precision="bf16"'];
    for (const mention of mentions) assert.ok(joined.includes(mention), `${mention} not in: ${joined}`);
  });

  it("stays quiet about defaults and about explicit values that change nothing", () => {
    const file = configFile({ mixed_precision: "no", train_use_8bit_adam: false, log_with: "" });
    assert.deepEqual(loadRunConfig({ file }).warnings, []);
  });
});

it("algorithm ddpo takes DDPO's learning-rate default (3e-4) unless one is given", () => {
  assert.equal(loadRunConfig({ overrides: { algorithm: "ddpo" } }).config.train_learning_rate, 3e-4);
  assert.equal(loadRunConfig({ overrides: { algorithm: "ddpo", train_learning_rate: "0.01" } }).config.train_learning_rate, 0.01);
  assert.equal(loadRunConfig({}).config.train_learning_rate, 1e-3);
});
