/**
 * Import this first in a test that plays a user at a terminal. Ink decides once, when it is first imported, whether it
 * runs in CI (the `CI` or `CONTINUOUS_INTEGRATION` variable); there it draws only the last frame, on exit, which is
 * right for a CI log and wrong for a test of the live dashboard. This module runs before Ink is imported (ES modules
 * evaluate in import order) and clears those variables for this process and every process it starts (the CLI under
 * tmux). The product's own choice, headless when in CI, is tested separately with the variables set.
 */
for (const name of ["CI", "CONTINUOUS_INTEGRATION"]) delete process.env[name];
