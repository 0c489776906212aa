import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { cleanup, render } from "ink-testing-library";
import { RunState } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { App } from "../../ui/App.js";
import { initialRunView, reduceRunView } from "../../ui/run-view.js";
import { evalResult, metrics, pngOf, status } from "./events.js";
import { FakeController } from "./fake-controller.js";
import { untilFrame } from "./wait.js";

afterEach(cleanup);

const evalAt = (step: number, fidelity: number, diversity: number) =>
  evalResult({
    step,
    monitors: { reward: 0.5 + step / 100, fidelity, diversity, drift: step / 100 },
    images: { step, images: ["a red circle", "a blue square"].map((prompt) => ({ png: pngOf(8, 8, []), prompt, reward: 0.5 })) },
    seeds: [0, 0],
  });

test("the dashboard shows the eval fidelity line with diversity and drift beside the reward chart, and the eval strip", async () => {
  const controller = new FakeController();
  const app = render(<App controller={controller} mode="train" />);
  Object.defineProperty(app.stdout, "rows", { configurable: true, value: 40 });
  Object.defineProperty(app.stdout, "columns", { configurable: true, value: 120 });
  app.stdout.emit("resize");
  controller.push(
    status({ state: RunState.RUNNING, step: 10, total: 40 }),
    evalAt(0, 0.875, 0.3),
    metrics({ step: 10, loss: -0.6, rewardMean: 0.6, rewardStd: 0.1 }),
    evalAt(10, 0.75, 0.2),
  );
  await untilFrame(app.lastFrame, "eval fidelity · diversity 0.2 · drift 0.1  0.75");
  const frame = app.lastFrame() ?? "";
  assert.match(frame, /reward \(mean ± std\) {2}0\.6/);
  assert.match(frame, /eval · step 10/);
  assert.match(frame, /a red circle \| 0\.500/);
});

test("evaluations replace those of steps a restarted trainer runs again", () => {
  const view = [evalAt(0, 0.9, 0.3), evalAt(10, 0.8, 0.2), evalAt(20, 0.7, 0.1), evalAt(10, 0.85, 0.25)].reduce(reduceRunView, initialRunView);
  assert.deepEqual(view.evals.map((e) => [e.step, e.monitors.fidelity]), [[0, 0.9], [10, 0.85]]);
  assert.equal(view.latestEval?.step, 10);
});
