/** The ConfigError a run config fails with, for tests that check what it says. */
import assert from "node:assert/strict";
import { ConfigError, loadRunConfig, type LoadRunConfigOptions } from "../../src/config/index.js";

export function loadError(options: LoadRunConfigOptions): ConfigError {
  try {
    loadRunConfig(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected loadRunConfig to throw");
}
