/**
 * End to end: the real CLI in a real terminal (tmux) — the dashboard shows training, `p` pauses it on screen, `q`
 * then `y` stops it, and the process exits 0.
 */
import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { tempRuns } from "../helpers/runs.js";
import { tmuxTerminal } from "../helpers/tmux-terminal.js";

const runs = tempRuns();
/** What `npm start` trains: the embedded tiny-shapes pipeline with its aesthetic reward. */
const QUICKSTART = fileURLToPath(new URL("../../../configs/quickstart.json", import.meta.url));
const terminal = tmuxTerminal(runs.dir);
const { session, tmux, screenShows } = terminal;
after(() => {
  terminal.close();
  runs.cleanup();
});

/**
 * `alignprop train` on the quickstart config in a new terminal. The quickstart's evaluation (48 samples of 20 steps) is
 * off: these tests are about the terminal, and test/ui/eval-pane.test.tsx shows the eval panes.
 */
const trainInTerminal = (name: string, flags: string[], env = "") =>
  terminal.train(name, ["--config", QUICKSTART, "--runs_dir", runs.dir, "--train_batch_size", "2", "--eval_freq", "0", ...flags], env);

test("the dashboard trains in a terminal, shows PAUSED after p, and stops cleanly on q + y", async () => {
  const cli = trainInTerminal(session, ["--num_epochs", "100000", "--save_freq", "100000", "--log_image_freq", "5"]);

  await screenShows(/RUNNING\s+step [1-9]\d*\/100000/);
  await screenShows(/images · step \d+/);
  tmux("send-keys", "-t", session, "p");
  const paused = await screenShows(/PAUSED\s+step \d+\/100000/);
  const step = /PAUSED\s+step (\d+)/.exec(paused)![1];
  tmux("send-keys", "-t", session, "q");
  await screenShows(/Stop training\?/);
  tmux("send-keys", "-t", session, "y");
  assert.equal(cli.exited(), "0");
  assert.ok(Number(step) >= 1);
});

test("in CI (CI=true) the CLI at a terminal writes JSON lines, not the dashboard, and exits 0 when the run is done", async () => {
  const name = `${session}-ci`;
  const cli = trainInTerminal(name, ["--num_epochs", "2", "--save_freq", "100000"], "CI=true");
  assert.equal(cli.exited(), "0");
  const screen = tmux("capture-pane", "-p", "-t", name);
  assert.match(screen, /^\{"runId":/m, "event JSON lines on the terminal");
  assert.match(screen, /^done: /m, "the headless summary at the end");
  assert.doesNotMatch(screen, /RUNNING\s+step/);
});
