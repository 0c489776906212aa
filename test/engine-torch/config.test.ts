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

test("torch refuses reward and image_hook modules and a TF.js backend, each naming its field and value", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ reward: "./my-reward.js" }, /^reward: "\.\/my-reward\.js": the torch engine takes built-in rewards only/],
    [{ reward: "rewards/mine.py" }, /^reward: "rewards\/mine\.py": the torch engine takes built-in rewards only/],
    [{ image_hook: "hook.mjs" }, /^image_hook: "hook\.mjs": the torch engine runs no image_hook modules yet/],
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

test("mixed_precision and allow_tf32 warn under tfjs (ignored there) and not under torch (honoured)", () => {
  const set = { mixed_precision: "bf16", allow_tf32: "false" };
  assert.equal(load(set).warnings.length, 2);
  assert.deepEqual(load({ ...set, engine: "torch" }).warnings, []);
});
