/**
 * `engine` in the run config: tfjs by default; torch accepted with what it trains today, and each thing it cannot do
 * refused by the CLI's one validator with the field and the value named; TF.js-only warnings stay off under torch.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError, loadRunConfig } from "../../src/config/index.js";

const load = (overrides: Record<string, string>) => loadRunConfig({ overrides });

test("engine defaults to tfjs and takes torch; anything else is refused naming the choices", () => {
  assert.equal(load({}).config.engine, "tfjs");
  assert.equal(load({ engine: "torch", reward: "tiny-aesthetic", mixed_precision: "bf16" }).config.engine, "torch");
  assert.equal(load({ engine: "torch", algorithm: "ddpo" }).config.algorithm, "ddpo");
  assert.throws(() => load({ engine: "jax" }), (err: unknown) => err instanceof ConfigError && /engine: .*tfjs.*torch/.test(err.message));
});

test("torch refuses JavaScript reward and image_hook modules and a TF.js backend, each naming its field and value", () => {
  const javascript = /is a JavaScript module \(\.js, \.mjs, \.cjs\), which runs on --engine tfjs; --engine torch takes a Python module \(file\.py, or file\.py:function\)$/;
  const cases: [Record<string, string>, RegExp][] = [
    [{ reward: "./my-reward.js" }, new RegExp(`^reward: "\\./my-reward\\.js" ${javascript.source}`)],
    [{ reward: "reward.cjs" }, new RegExp(`^reward: "reward\\.cjs" ${javascript.source}`)],
    [{ image_hook: "hook.mjs" }, new RegExp(`^image_hook: "hook\\.mjs" ${javascript.source}`)],
    [{ backend: "wasm" }, /^backend: "wasm": picks a TF.js backend/],
  ];
  for (const [overrides, message] of cases) {
    assert.throws(() => load({ engine: "torch", ...overrides }), (err: unknown) => err instanceof ConfigError && err.issues.length === 1 && message.test(err.message), JSON.stringify(overrides));
    assert.doesNotThrow(() => load(overrides), `tfjs takes ${JSON.stringify(overrides)}`);
  }
});

test("torch takes log_with tensorboard and wandb (accelerate's trackers)", () => {
  for (const log_with of ["tensorboard", "wandb"]) assert.equal(load({ engine: "torch", log_with }).config.log_with, log_with);
});

test("Python reward and image_hook modules run on torch and are refused by tfjs, naming the field, the value and --engine torch", () => {
  const cases: Record<string, string>[] = [{ reward: "rewards/mine.py" }, { reward: "mine.py:score" }, { image_hook: "hooks/log.py" }, { image_hook: "both.py:image_hook" }];
  for (const overrides of cases) {
    assert.doesNotThrow(() => load({ engine: "torch", ...overrides }), JSON.stringify(overrides));
    const [field, value] = Object.entries(overrides)[0]!;
    const expected = `${field}: ${JSON.stringify(value)} is a Python module (file.py, or file.py:function), which runs on --engine torch; --engine tfjs takes a JavaScript module (.js, .mjs, .cjs)`;
    assert.throws(() => load(overrides), (err: unknown) => err instanceof ConfigError && err.message === expected, JSON.stringify(overrides));
  }
});

test("torch takes built-in rewards, with arguments that hold paths, and refuses a module path that is not .py", () => {
  for (const reward of ["tiny-aesthetic", "hue:blue", "aesthetic:head=./head.safetensors", "clip-score:clip=openai/clip-vit-base-patch32"]) {
    assert.doesNotThrow(() => load({ engine: "torch", reward }), reward);
  }
  for (const [field, value] of [["reward", "./rewards/mine"], ["image_hook", "hook"]] as const) {
    assert.throws(
      () => load({ engine: "torch", [field]: value }),
      (err: unknown) => err instanceof ConfigError && err.message === `${field}: ${JSON.stringify(value)} is neither a .py nor a .js file; --engine torch takes a Python module (file.py, or file.py:function)`,
    );
  }
});

test("mixed_precision and allow_tf32 warn under tfjs (ignored there) and not under torch (honoured)", () => {
  const set = { mixed_precision: "bf16", allow_tf32: "false" };
  assert.equal(load(set).warnings.length, 2);
  assert.deepEqual(load({ ...set, engine: "torch" }).warnings, []);
});
