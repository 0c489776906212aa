/**
 * End to end: the real CLI in a real terminal (tmux) — the dashboard shows training, `p` pauses it on screen, `q`
 * then `y` stops it, and the process exits 0.
 */
import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, test } from "node:test";
import { CLI } from "../helpers/cli.js";
import { tempRuns } from "../helpers/runs.js";

const runs = tempRuns();
/** What `npm start` trains: the embedded tiny-shapes pipeline with its aesthetic reward. */
const QUICKSTART = fileURLToPath(new URL("../../../configs/quickstart.json", import.meta.url));
const session = `alignprop-e2e-${process.pid}`;
// A private tmux server, so the test neither sees nor disturbs the user's sessions.
const tmux = (...args: string[]) => execFileSync("tmux", ["-L", session, ...args], { encoding: "utf8", timeout: 60_000 });
after(() => {
  try {
    tmux("kill-server");
  } catch {
    // Already gone: the run ended and the shell exited.
  }
  runs.cleanup();
});

/** Polls the terminal's contents until `pattern` shows up; the timeout only turns a hang into a failure. */
async function screenShows(pattern: RegExp, timeoutMs = 60_000, target = session): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = tmux("capture-pane", "-p", "-t", target);
    if (pattern.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`screen never showed ${pattern}; last screen:\n${screen}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Starts `alignprop train` with these flags in a new 120x40 terminal (tmux session `name`). The shell keeps the session
 * (and so the tmux server that remembers the signal) alive after the CLI exits; `exited()` waits for that exit and
 * returns its code. The quickstart's evaluation (48 samples of 20 steps) is off: these tests are about the terminal, and
 * test/ui/eval-pane.test.tsx shows the eval panes.
 */
function trainInTerminal(name: string, flags: string[], env = ""): { exited: () => string } {
  const exitFile = join(runs.dir, `${name}.exit-code`);
  const command = [env, process.execPath, CLI, "train", "--config", QUICKSTART, "--runs_dir", runs.dir, "--train_batch_size", "2", "--eval_freq", "0", ...flags].join(" ");
  const line = `${command}; echo $? > ${exitFile}; tmux -L ${session} wait-for -S ${name}-done; exec sleep 600`;
  tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", line);
  return {
    exited: () => {
      tmux("wait-for", `${name}-done`);
      return readFileSync(exitFile, "utf8").trim();
    },
  };
}

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
