/**
 * A private tmux server for tests that play a user at a terminal: start `alignprop train` in a new 120x40 terminal,
 * read the screen until it shows something, send keys. Import test/helpers/at-a-terminal.ts first in such a test.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CLI } from "./cli.js";

export interface TmuxTerminal {
  /** The default session's name (the first terminal's). */
  session: string;
  tmux(...args: string[]): string;
  /** Polls the terminal's contents until `pattern` shows up; the timeout only turns a hang into a failure. */
  screenShows(pattern: RegExp, timeoutMs?: number, target?: string): Promise<string>;
  /**
   * Starts `alignprop train <flags>` in a new terminal (tmux session `name`). The shell keeps the session (and so the
   * tmux server that remembers the signal) alive after the CLI exits; `exited()` waits for that exit and returns its
   * code.
   */
  train(name: string, flags: string[], env?: string): { exited: () => string };
  close(): void;
}

/** A tmux server named after this process; exit codes are written under `dir`. */
export function tmuxTerminal(dir: string, prefix = "alignprop-e2e"): TmuxTerminal {
  const session = `${prefix}-${process.pid}`;
  // A private tmux server, so the test neither sees nor disturbs the user's sessions.
  const tmux = (...args: string[]) => execFileSync("tmux", ["-L", session, ...args], { encoding: "utf8", timeout: 60_000 });
  return {
    session,
    tmux,
    screenShows: async (pattern, timeoutMs = 60_000, target = session) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const screen = tmux("capture-pane", "-p", "-t", target);
        if (pattern.test(screen)) return screen;
        if (Date.now() > deadline) throw new Error(`screen never showed ${pattern}; last screen:\n${screen}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    train: (name, flags, env = "") => {
      const exitFile = join(dir, `${name}.exit-code`);
      const command = [env, process.execPath, CLI, "train", ...flags].join(" ");
      const line = `${command}; echo $? > ${exitFile}; tmux -L ${session} wait-for -S ${name}-done; exec sleep 600`;
      tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", line);
      return {
        exited: () => {
          tmux("wait-for", `${name}-done`);
          return readFileSync(exitFile, "utf8").trim();
        },
      };
    },
    close: () => {
      try {
        tmux("kill-server");
      } catch {
        // Already gone: the run ended and the shell exited.
      }
    },
  };
}
