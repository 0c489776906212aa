/**
 * `events.jsonl`: one camelCase proto-JSON `Event` per line, appended whole (one `write` a line) by one writer, read by
 * one reader. The torn-line rule, the same for every reader: a crash can cut only the line being written, so a last
 * line that is not a whole event is skipped (and reported as `torn`); a bad line anywhere else is corruption, an
 * error naming the file and the line.
 */
import { fromJsonString, toJsonString, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { closeSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { EventSchema, type Event, type ImageBatch } from "../gen/alignprop/v1/alignprop_pb.js";

export interface LoggedEvent {
  event: Event;
  /** The line as written (without its newline): trimming keeps it byte for byte. */
  line: string;
}

export interface EventsLog {
  events: Event[];
  /** The whole events with their lines, in file order. */
  entries: LoggedEvent[];
  /** 1-based number of a skipped torn last line, if there was one. */
  torn?: number;
}

/** Parses an events.jsonl text by the torn-line rule; `path` names the file in errors. */
export function parseEventsLog(text: string, path: string): EventsLog {
  const lines = text.split("\n");
  let last = lines.length - 1;
  while (last > 0 && !lines[last]!.trim()) last--;
  const entries: LoggedEvent[] = [];
  let torn: number | undefined;
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      entries.push({ event: fromJsonString(EventSchema, line, { ignoreUnknownFields: true }), line });
    } catch (error) {
      if (i === last) torn = i + 1;
      else throw new Error(`${path} line ${i + 1} is not an event (only the last line may be cut short by a crash): ${(error as Error).message}`);
    }
  });
  return { events: entries.map((e) => e.event), entries, ...(torn === undefined ? {} : { torn }) };
}

export async function readEventsLog(path: string): Promise<EventsLog> {
  return parseEventsLog(await readFile(path, "utf8"), path);
}

/** Appends events to a run's events.jsonl; image and eval events are logged without pixels (the PNGs are files). */
export class EventsWriter {
  private readonly fd: number;

  /**
   * Opens `path` for appending. When resuming, `keepThroughSeq` first drops the events after the checkpoint (those
   * steps run again) and a torn last line, so the log holds each event once (rewritten atomically: temp + rename).
   */
  constructor(readonly path: string, keepThroughSeq?: number) {
    if (keepThroughSeq !== undefined) trimEventsLog(path, keepThroughSeq);
    this.fd = openSync(path, "a");
  }

  append(event: Event): void {
    writeSync(this.fd, eventsLogLine(event) + "\n");
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Keeps the events with `seq ≤ keepThroughSeq`, as written; a missing file is left missing. */
export function trimEventsLog(path: string, keepThroughSeq: number): void {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  const kept = parseEventsLog(text, path).entries.filter((e) => e.event.seq <= keepThroughSeq);
  writeFileSync(`${path}.tmp`, kept.map((e) => e.line + "\n").join(""));
  renameSync(`${path}.tmp`, path);
}

/** Image and eval events without their PNG bytes (`Image.path` names the file). */
/** One event as events.jsonl holds it (without newline): no pixels, map keys in order. */
export function eventsLogLine(event: Event): string {
  return toJsonLine(EventSchema, withoutPixels(event));
}

/** One message as a JSON line the way both engines write it: protobuf-es's proto-JSON with map keys in order. */
export function toJsonLine<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): string {
  sortMapEntries(reflect(schema, message));
  return toJsonString(schema, message);
}

/**
 * Puts every map's entries in key order (by code point, as Python's `sorted`), so that a map's keys are written alike
 * by both engines (python/alignprop_torch/wire/json_lines.py sorts them too); JSON.stringify still puts integer-like
 * keys first, which the Python writer copies.
 */
function sortMapEntries(message: ReflectMessage): void {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    if (field.fieldKind === "map") {
      const map = message.get(field);
      const entries = [...map.entries()].sort(([a], [b]) => byCodePoint(String(a), String(b)));
      map.clear();
      for (const [key, value] of entries) map.set(key, value);
    } else if (field.fieldKind === "message") {
      sortMapEntries(message.get(field));
    } else if (field.fieldKind === "list" && field.listKind === "message") {
      for (const item of message.get(field)) sortMapEntries(item as ReflectMessage);
    }
  }
}

function byCodePoint(a: string, b: string): number {
  const [x, y] = [[...a], [...b]];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function withoutPixels(event: Event): Event {
  const { payload } = event;
  if (payload.case === "images") return { ...event, payload: { case: "images", value: noPngs(payload.value) } };
  if (payload.case === "eval" && payload.value.images) {
    return { ...event, payload: { case: "eval", value: { ...payload.value, images: noPngs(payload.value.images) } } };
  }
  return event;
}

function noPngs(batch: ImageBatch): ImageBatch {
  return { ...batch, images: batch.images.map((i) => ({ ...i, png: new Uint8Array(0) })) };
}
