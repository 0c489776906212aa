/**
 * A field the TF.js engine cannot honour reaches the dashboard: the run the CLI prepares carries the warning, the
 * trainer publishes it when it starts, and the Ink dashboard shows it in its log, once.
 */
import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { render } from "ink-testing-library";
import { App } from "../../ui/App.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
after(() => runs.cleanup());

const WARNING = 'mixed_precision="bf16" is ignored: TF.js trains in fp32';

test("the dashboard's log shows the warning for a field TF.js cannot honour, once", async () => {
  const run = runs.prepare({ num_epochs: "100000", mixed_precision: "bf16" });
  assert.equal(run.warnings.length, 1);
  const trainer = await runs.spawn({ configPath: run.configPath, warnings: run.warnings });
  let training: (frame: string) => void = () => {};
  const frameWhileTraining = new Promise<string>((resolve) => (training = resolve));
  const app = render(<App controller={trainer.client} mode="train" onExit={() => {}} />);
  const original = app.stdout.write.bind(app.stdout);
  app.stdout.write = (frame: string) => {
    // By step 2 the trainer's start-up events, the warning among them, have all been drawn.
    if (/RUNNING\s+step [2-9]/.test(frame)) training(frame);
    return original(frame);
  };
  const frame = await frameWhileTraining;
  assert.equal(frame.split(WARNING).length - 1, 1, frame);
  await trainer.client.stop();
  await trainer.exit;
  app.unmount();
});
