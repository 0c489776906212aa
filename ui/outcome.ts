/**
 * How a run ended, judged the same way by the dashboard and the headless reporter: only a run that reached DONE
 * succeeded; FAILED, a dead trainer process, a broken stream, or a stream that simply stopped are failures.
 */
import { RunState } from "../src/gen/alignprop/v1/alignprop_pb.js";
import { describeError, stateName } from "./format.js";
import type { RunView } from "./run-view.js";

export interface RunOutcome {
  ok: boolean;
  summary: string;
}

/** `streamError` is what the event stream threw, if it threw. */
export function runOutcome(view: RunView, streamError?: string): RunOutcome {
  if (streamError !== undefined) return { ok: false, summary: `event stream failed: ${streamError}` };
  if (view.state === RunState.DONE) {
    return { ok: true, summary: `run ${view.runId || "?"} done at step ${view.step}/${view.total}` };
  }
  if (view.error) return { ok: false, summary: describeError(view.error) };
  if (view.state === RunState.FAILED) return { ok: false, summary: `run failed: ${view.message || "no reason given"}` };
  return { ok: false, summary: `event stream ended while the run was ${stateName(view.state)}` };
}
