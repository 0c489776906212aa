/** The evaluation fields: defaults from the model, and one clear error per wrong value. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadRunConfig, RunConfigSchema } from "../../src/config/index.js";
import { resolveRunDefaults } from "../../src/models/model-defaults.js";
import { modelSource } from "../../src/models/embedded.js";
import { prepareRun } from "../../src/run/index.js";

const EMBEDDED_MODEL_DIR = modelSource("tiny-shapes");

/** Every issue of parsing `config`, as "field: message". */
function issues(config: Record<string, unknown>): string[] {
  const r = RunConfigSchema.safeParse(config);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
}

test("unset eval fields take the model's: tiny-shapes evaluates every colour × shape with seeds 0 and 1", () => {
  const d = resolveRunDefaults(RunConfigSchema.parse({ reward: "", prompts: "" }), EMBEDDED_MODEL_DIR);
  assert.equal(d.eval_freq, 40);
  assert.equal(d.eval_prompts.length, 24);
  assert.ok(d.eval_prompts.includes("a magenta triangle"));
  assert.deepEqual(d.eval_seeds, [0, 1]);
  assert.deepEqual(d.eval_monitors, ["reward", "shape-fidelity", "diversity", "drift"]);
  // A model without defaults never evaluates unless asked; a run's own values win.
  assert.equal(resolveRunDefaults(RunConfigSchema.parse({}), undefined).eval_freq, 0);
  assert.equal(resolveRunDefaults(RunConfigSchema.parse({ eval_freq: 0 }), EMBEDDED_MODEL_DIR).eval_freq, 0);
});

test("eval_seeds and eval_prompts come from flags as comma-separated lists", () => {
  const { config } = loadRunConfig({ overrides: { eval_seeds: "3, 7", eval_prompts: "a red circle,a cat", eval_freq: "5" } });
  assert.deepEqual([config.eval_seeds, config.eval_prompts, config.eval_freq], [[3, 7], ["a red circle", "a cat"], 5]);
});

test("an unknown monitor or best_metric, a best without evaluations and a floor without a best are named errors", () => {
  assert.deepEqual(issues({ eval_monitors: ["reward", "sharpness"] }), [
    'eval_monitors: "sharpness" is not a monitor; use some of reward, shape-fidelity, clip-fidelity, diversity, drift',
  ]);
  assert.match(issues({ best_metric: "loss" })[0]!, /^best_metric: "loss" is not a monitor value; use one of reward, fidelity, /);
  assert.deepEqual(issues({ best_metric: "reward", eval_freq: 0 }), ['best_metric: "reward" needs evaluations, but eval_freq=0 turns them off']);
  assert.match(issues({ best_min_fidelity: 0.8 })[0]!, /^best_min_fidelity: 0.8 is read only with best_metric/);
  assert.deepEqual(issues({ best_metric: "reward", best_min_fidelity: 0.8, eval_freq: 10 }), []);
});

test("both engines honour the eval fields (no warning), and config.json carries the resolved eval set", () => {
  assert.deepEqual(loadRunConfig({ overrides: { engine: "torch", eval_freq: "5", best_metric: "reward" } }).warnings, []);
  const runs = mkdtempSync(join(tmpdir(), "eval-config-"));
  try {
    const run = prepareRun(undefined, { runs_dir: runs, engine: "torch", eval_seeds: "3" });
    const written = JSON.parse(readFileSync(run.configPath, "utf8")) as Record<string, unknown>;
    assert.equal(written.eval_freq, 40);
    assert.equal((written.eval_prompts as string[]).length, 24);
    assert.deepEqual(written.eval_seeds, [3]);
    assert.deepEqual(written.eval_monitors, ["reward", "shape-fidelity", "diversity", "drift"]);
  } finally {
    rmSync(runs, { recursive: true, force: true });
  }
});
