/**
 * The resume check of the trainer-run tests: the same `alignprop train --ci` run straight for `epochs`, and for half
 * of them then resumed for the rest; each run's events.jsonl comes back for comparing.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { alignprop } from "./cli.js";

export type EventLine = {
  metrics?: { step: number; loss: number; rewardMean: number; gradNorm: number; scalars?: Record<string, number> };
  status?: { state: string; message?: string };
};

export const eventLines = (runDir: string): EventLine[] =>
  readFileSync(join(runDir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as EventLine);

/** `args` must include `--runs_dir runsDir`; runs "straight" and "halves" are made there. */
export async function straightAndResumed(runsDir: string, args: string[], epochs: number) {
  const straight = await alignprop(["train", "--ci", ...args, "--num_epochs", String(epochs), "--run_name", "straight"]);
  assert.equal(straight.exitCode, 0, String(straight.stderr));
  const half = await alignprop(["train", "--ci", ...args, "--num_epochs", String(epochs / 2), "--run_name", "halves"]);
  assert.equal(half.exitCode, 0, String(half.stderr));
  const rest = await alignprop(["train", "--ci", "--resume", join(runsDir, "halves"), "--num_epochs", String(epochs)]);
  assert.equal(rest.exitCode, 0, String(rest.stderr));
  return {
    straightDir: join(runsDir, "straight"),
    straight: eventLines(join(runsDir, "straight")),
    resumed: eventLines(join(runsDir, "halves")),
    /** The straight run's `--ci` output: JSON lines on stdout, the summary on stderr. */
    straightCi: { stdout: String(straight.stdout), stderr: String(straight.stderr) },
  };
}
