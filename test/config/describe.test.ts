import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { DEFAULT_RUN_CONFIG, describeRunConfig, formatRunConfigHelp } from "../../src/config/index.js";

describe("describeRunConfig", () => {
  it("lists every field once, TRL's first", () => {
    const names = describeRunConfig().map((field) => field.name);
    assert.deepEqual([...names].sort(), [...Object.keys(DEFAULT_RUN_CONFIG), "reward_target", "eval_freq", "best_min_fidelity"].sort());
    assert.equal(names[0], "exp_name");
    assert.equal(names.indexOf("push_to_hub") + 1, names.indexOf("hub_model_id"), "TRL's Hub fields together");
    assert.equal(names.indexOf("hub_model_id") + 1, names.indexOf("model"));
  });

  it("gives each field a type, a default and a one-line doc", () => {
    const numEpochs = describeRunConfig().find((field) => field.name === "num_epochs");
    assert.deepEqual(numEpochs, {
      name: "num_epochs",
      type: "integer ≥ 1",
      default: "100",
      doc: "Number of epochs to train.",
    });
    for (const field of describeRunConfig()) {
      assert.notEqual(field.doc, "", `${field.name} has no doc`);
      assert.ok(!field.doc.includes("\n"), `${field.name}'s doc spans lines`);
    }
  });

  it("spells out enums, ranges, pairs and optional fields", () => {
    const types = Object.fromEntries(describeRunConfig().map((field) => [field.name, [field.type, field.default]]));
    assert.deepEqual(types["mixed_precision"], ["no|fp16|bf16", '"fp16"']);
    assert.deepEqual(types["train_adam_beta1"], ["number in [0, 1)", "0.9"]);
    assert.deepEqual(types["train_learning_rate"], ["number > 0", "0.001"]);
    assert.deepEqual(types["truncated_rand_backprop_minmax"], ["[integer, integer]", "[0,50]"]);
    assert.deepEqual(types["reward_target"], ["number", "(none)"]);
  });
});

describe("formatRunConfigHelp", () => {
  it("prints one aligned line per field", () => {
    const lines = formatRunConfigHelp().split("\n");
    assert.equal(lines.length, describeRunConfig().length);
    const numEpochs = lines.find((line) => line.startsWith("num_epochs "));
    assert.match(numEpochs ?? "", /^num_epochs +integer ≥ 1 +100 +Number of epochs to train\.$/);
    const docColumns = describeRunConfig().map((field, i) => (lines[i]?.length ?? 0) - field.doc.length);
    assert.equal(new Set(docColumns).size, 1);
  });
});
