/**
 * Shows a run through the right front end: the Ink dashboard on a terminal, JSON lines (`--ci`) otherwise — and in CI
 * (`CI` or `CONTINUOUS_INTEGRATION` set, Ink's own test), where Ink would draw only the last frame, at exit.
 * Resolves with the exit code the front end reports.
 */
import { render } from "ink";
import isInCi from "is-in-ci";
import { createElement } from "react";
import type { RunController } from "../bridge/run-controller.js";
import { App, runHeadless } from "../../ui/index.js";
import type { DashboardMode } from "../../ui/index.js";

export function wantsDashboard(ci: boolean): boolean {
  return !ci && !isInCi && Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY);
}

export async function showRun(controller: RunController, mode: DashboardMode, ci: boolean): Promise<number> {
  if (!wantsDashboard(ci)) return runHeadless(controller, { stdout: process.stdout, stderr: process.stderr });
  let failure: Error | undefined;
  const app = render(createElement(App, { controller, mode, onExit: (error?: Error) => (failure = error) }), {
    exitOnCtrlC: false,
  });
  try {
    await app.waitUntilExit();
  } catch (err) {
    failure ??= err as Error;
  }
  // The app stops reading when it exits; release the sockets (never stops the trainer).
  await controller.close();
  if (failure) process.stderr.write(`${failure.message}\n`);
  return failure ? 1 : 0;
}
