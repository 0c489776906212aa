/**
 * Small text formatters shared by the dashboard and the headless reporter, so both say the same thing the same way.
 */
import { RunState, type Error as RunError } from "../src/gen/alignprop/v1/alignprop_pb.js";

export { formatDuration } from "../src/util/format-duration.js";

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

/** "2 processes" for a data-parallel run (Status.world_size); "" for one process or a trainer that does not say. */
export function formatProcesses(worldSize: number): string {
  return worldSize > 1 ? `${worldSize} processes` : "";
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
