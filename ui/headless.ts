/**
 * The dashboard without a terminal (`--ci`): one JSON object per event on stdout (image PNG bytes replaced by their
 * length), a short human summary on stderr, and an exit code: 0 only when the run reached DONE.
 */
import { toJson, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { EventSchema, LogLevel, type Event, type ImageBatch } from "../src/gen/alignprop/v1/alignprop_pb.js";
import type { RunController } from "../src/bridge/run-controller.js";
import { describeError, formatNumber, formatProcesses, stateName, thrownText } from "./format.js";
import { runOutcome } from "./outcome.js";
import { progressFraction, progressText } from "./progress.js";
import { formatScalars, initialRunView, reduceRunView, type RunView } from "./run-view.js";

export interface HeadlessStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** A progress line is written every this many steps (and at the last step). */
export const PROGRESS_EVERY = 10;

/** Resolves with the process exit code: 0 when the run ended DONE, 1 otherwise. */
export async function runHeadless(controller: RunController, { stdout, stderr }: HeadlessStreams): Promise<number> {
  let view = initialRunView;
  let streamError: string | undefined;
  try {
    for await (const event of controller.events()) {
      stdout.write(`${JSON.stringify(eventJson(event))}\n`);
      const before = view;
      view = reduceRunView(view, event);
      const line = summaryLine(event, before, view);
      if (line !== undefined) stderr.write(`${line}\n`);
    }
  } catch (thrown) {
    streamError = thrownText(thrown);
  }
  const outcome = runOutcome(view, streamError);
  // An error already printed is not repeated: the last line says where the run ended.
  const summary = !outcome.ok && streamError === undefined && view.error ? `run ${view.runId || "?"} ${stateName(view.state)} at step ${view.step}/${view.total} (the error is above)` : outcome.summary;
  stderr.write(`${outcome.ok ? "done" : "failed"}: ${summary}\n`);
  return outcome.ok ? 0 : 1;
}

/** The event as proto JSON, with each image's `png` (of images and eval events) replaced by `pngBytes` (its length). */
export function eventJson(event: Event): JsonValue {
  const json = toJson(EventSchema, event) as JsonObject;
  const { payload } = event;
  if (payload.case === "images") return { ...json, images: batchJson(payload.value, json["images"] as JsonObject) };
  if (payload.case !== "eval" || !payload.value.images) return json;
  const result = json["eval"] as JsonObject;
  return { ...json, eval: { ...result, images: batchJson(payload.value.images, result["images"] as JsonObject) } };
}

function batchJson(batch: ImageBatch, json: JsonObject): JsonObject {
  const images = batch.images.map((image, i) => {
    const { png: _png, ...rest } = (json["images"] as JsonObject[] | undefined)?.[i] ?? {};
    return { pngBytes: image.png.byteLength, ...rest };
  });
  return { ...json, images };
}

function summaryLine(event: Event, before: RunView, after: RunView): string | undefined {
  const { payload } = event;
  switch (payload.case) {
    case "status": {
      const processes = after.worldSize !== before.worldSize ? formatProcesses(after.worldSize) : "";
      if (after.state === before.state && !processes) return undefined;
      // FAILED's message is the error's, printed just before.
      const repeated = after.error !== undefined && after.error.message.startsWith(payload.value.message);
      const note = payload.value.message && !repeated ? `: ${payload.value.message}` : "";
      return `state ${stateName(after.state)}${processes ? ` on ${processes}` : ""}${note}`;
    }
    case "metrics": {
      const m = payload.value;
      if (m.step % PROGRESS_EVERY !== 0 && m.step !== after.total) return undefined;
      const reward = `${formatNumber(m.rewardMean)}±${formatNumber(m.rewardStd)}`;
      const scalars = formatScalars(m.scalars);
      return `step ${m.step}/${after.total} loss ${formatNumber(m.loss)} reward ${reward}${scalars ? `  ${scalars}` : ""}`;
    }
    case "checkpoint":
      return `${payload.value.reason === "best" ? "best checkpoint" : "checkpoint"} at step ${payload.value.step}: ${payload.value.path}`;
    case "eval":
      return `eval at step ${payload.value.step}: ${formatScalars(payload.value.monitors)}`;
    case "error": {
      const tail = payload.value.stderrTail.trimEnd();
      return tail ? `${describeError(payload.value)}\n${tail.replace(/^/gm, "  ")}` : describeError(payload.value);
    }
    case "log": {
      const { level, message } = payload.value;
      if (level === LogLevel.WARN) return `warning: ${message}`;
      return level === LogLevel.ERROR ? `error: ${message}` : undefined;
    }
    case "progress": {
      // One line per tenth of a phase and per finished item, not per event.
      const p = payload.value;
      const was = before.progress?.phase === p.phase ? before.progress : undefined;
      const tenth = (f: number | undefined) => Math.floor((f ?? 0) * 10);
      const news = !was || was.itemsDone !== p.itemsDone || tenth(progressFraction(was)) !== tenth(progressFraction(p));
      return news ? progressText(p) : undefined;
    }
    case "images":
    case undefined:
      return undefined;
  }
}
