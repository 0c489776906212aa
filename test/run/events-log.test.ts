/**
 * events.jsonl: one writer (image pixels left out), one reader with one torn-line rule for every consumer, and the
 * trimming a resumed run does.
 */
import assert from "node:assert/strict";
import { create } from "@bufbuild/protobuf";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { EventSchema, ImageBatchSchema, ImageSchema, MetricsSchema, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { EventsWriter, parseEventsLog, readEventsLog, trimEventsLog } from "../../src/run/index.js";

const dir = mkdtempSync(join(tmpdir(), "alignprop-events-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const metrics = (seq: number): Event =>
  create(EventSchema, { runId: "r", seq, timeUnixMs: 1000 + seq, payload: { case: "metrics", value: create(MetricsSchema, { step: seq, loss: -seq / 10, scalars: { approx_kl: seq / 100 } }) } });

function writeLog(name: string, events: Event[]): string {
  const path = join(dir, name);
  const writer = new EventsWriter(path);
  for (const e of events) writer.append(e);
  writer.close();
  return path;
}

test("the writer appends one camelCase proto-JSON event per line, and image events without their pixels", async () => {
  const image = create(ImageSchema, { png: new Uint8Array([1, 2, 3]), path: "images/step-1/0.png", prompt: "cat", width: 2, height: 2 });
  const images = create(EventSchema, { runId: "r", seq: 2, payload: { case: "images", value: create(ImageBatchSchema, { step: 1, images: [image] }) } });
  const path = writeLog("written.jsonl", [metrics(1), images]);
  const lines = readFileSync(path, "utf8").split("\n");
  assert.equal(lines.length, 3, "two lines, each ending in a newline");
  assert.deepEqual(JSON.parse(lines[0]!), { runId: "r", seq: 1, timeUnixMs: 1001, metrics: { step: 1, loss: -0.1, scalars: { approx_kl: 0.01 } } });
  assert.equal(JSON.parse(lines[1]!).images.images[0].png, undefined, "no pixels in the log");
  const { events, torn } = await readEventsLog(path);
  assert.equal(torn, undefined);
  assert.deepEqual(events.map((e) => e.payload.case), ["metrics", "images"]);
  assert.equal(events[1]!.payload.case === "images" && events[1]!.payload.value.images[0]!.path, "images/step-1/0.png");
});

test("a torn last line is skipped and reported by its number; a bad line before the last is an error naming file and line", () => {
  const good = [metrics(1), metrics(2)].map((e) => JSON.stringify({ runId: e.runId, seq: e.seq })).join("\n") + "\n";
  const torn = parseEventsLog(good + '{"runId":"r","seq":3,"metr', "events.jsonl");
  assert.deepEqual(torn.events.map((e) => e.seq), [1, 2]);
  assert.equal(torn.torn, 3);
  assert.equal(parseEventsLog(good + '{"runId":"r","se\n', "events.jsonl").torn, 3, "a torn line followed by a newline is still the last one");
  assert.throws(() => parseEventsLog('{"seq":1}\nnot json\n{"seq":3}\n', "/runs/x/events.jsonl"), /^Error: \/runs\/x\/events\.jsonl line 2 is not an event/);
});

test("trimming for a resume keeps the events up to the checkpoint's seq byte for byte and drops a torn tail", () => {
  const path = writeLog("trimmed.jsonl", [metrics(1), metrics(2), metrics(3), metrics(4)]);
  const before = readFileSync(path, "utf8").split("\n");
  appendFileSync(path, '{"runId":"r","seq":5,"met');
  trimEventsLog(path, 2);
  assert.equal(readFileSync(path, "utf8"), before.slice(0, 2).join("\n") + "\n");
  const resumed = new EventsWriter(path, 2);
  resumed.append(metrics(3));
  resumed.close();
  assert.deepEqual(parseEventsLog(readFileSync(path, "utf8"), path).events.map((e) => e.seq), [1, 2, 3]);
});

test("trimming a run without an events log leaves it without one", () => {
  const path = join(dir, "never-written.jsonl");
  trimEventsLog(path, 7);
  assert.equal(existsSync(path), false);
  writeFileSync(path, "");
  trimEventsLog(path, 7);
  assert.equal(readFileSync(path, "utf8"), "");
});
