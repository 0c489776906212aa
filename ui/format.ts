/**
 * Small text formatters shared by the dashboard and the headless reporter, so both say the same thing the same way.
 */
import { RunState, type Error as RunError } from "../src/gen/alignprop/v1/alignprop_pb.js";

/** "PAUSED", "RUNNING", ... (the enum name without its prefix). */
export function stateName(state: RunState): string {
  return RunState[state] ?? `UNKNOWN(${state})`;
}

/** Three significant digits, no trailing zeros: 0.712, -12.3, 1230, 1e-7; "NaN"/"Inf" for non-finite values. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "Inf" : "-Inf";
  return String(Number(value.toPrecision(3)));
}

/** "45s", "3m20s", "2h05m"; "—" when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One line naming an error's source, message, and how the process ended when it died. */
export function describeError(error: Pick<RunError, "message" | "source" | "exitCode" | "signal">): string {
  const how = [
    error.source === "process" && error.exitCode !== -1 ? `exit code ${error.exitCode}` : "",
    error.signal ? `signal ${error.signal}` : "",
  ].filter((part) => part !== "");
  const source = error.source || "trainer";
  return `${source} error: ${error.message || "no message"}${how.length > 0 ? ` (${how.join(", ")})` : ""}`;
}

/** The message of anything thrown. */
export function thrownText(thrown: unknown): string {
  return thrown instanceof Error ? thrown.message : String(thrown);
}
