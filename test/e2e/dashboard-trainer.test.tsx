/** The Ink dashboard on a real trainer process: a trainer killed with SIGKILL makes the dashboard exit with the error. */
import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { render } from "ink-testing-library";
import { App } from "../../ui/App.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());

test("a dashboard whose trainer is killed with SIGKILL shows the failure with the signal and exits with an error", async () => {
  const run = runs.prepare({ num_epochs: "100000" });
  const trainer = await runs.spawn({ configPath: run.configPath });
  let exited: (error: Error | undefined) => void = () => {};
  const exit = new Promise<Error | undefined>((resolve) => (exited = resolve));
  let stepShown: () => void = () => {};
  const running = new Promise<void>((resolve) => (stepShown = resolve));
  const app = render(<App controller={trainer.client} mode="train" onExit={(error) => exited(error)} />);
  // Wait for a rendered step by watching each frame Ink writes.
  const original = app.stdout.write.bind(app.stdout);
  app.stdout.write = (frame: string) => {
    if (/RUNNING\s+step [1-9]/.test(frame)) stepShown();
    return original(frame);
  };
  await running;
  trainer.process.kill("SIGKILL");
  const error = await exit;
  assert.ok(error instanceof Error, "the app exits with an error");
  assert.match(error.message, /SIGKILL|killed/);
  assert.match(app.lastFrame() ?? "", /SIGKILL|killed/);
  app.unmount();
});
