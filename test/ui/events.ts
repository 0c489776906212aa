/**
 * Builders for the events the dashboard tests feed in, with a fixed run id and increasing seq.
 */
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { PNG } from "pngjs";
import {
  CheckpointSavedSchema,
  ErrorSchema,
  EvalResultSchema,
  EventSchema,
  ImageBatchSchema,
  LogSchema,
  MetricsSchema,
  ProgressSchema,
  StatusSchema,
  type Event,
} from "../../src/gen/alignprop/v1/alignprop_pb.js";

export const RUN_ID = "run-7";
const TIME = 1_700_000_000_000;
let seq = 0;

function event(payload: MessageInitShape<typeof EventSchema>["payload"]): Event {
  seq += 1;
  return create(EventSchema, { runId: RUN_ID, seq, timeUnixMs: TIME + seq, payload });
}

export const status = (init: MessageInitShape<typeof StatusSchema>): Event =>
  event({ case: "status", value: create(StatusSchema, init) });
export const metrics = (init: MessageInitShape<typeof MetricsSchema>): Event =>
  event({ case: "metrics", value: create(MetricsSchema, init) });
export const images = (init: MessageInitShape<typeof ImageBatchSchema>): Event =>
  event({ case: "images", value: create(ImageBatchSchema, init) });
export const log = (init: MessageInitShape<typeof LogSchema>): Event =>
  event({ case: "log", value: create(LogSchema, init) });
export const error = (init: MessageInitShape<typeof ErrorSchema>): Event =>
  event({ case: "error", value: create(ErrorSchema, init) });
export const progress = (init: MessageInitShape<typeof ProgressSchema>): Event =>
  event({ case: "progress", value: create(ProgressSchema, init) });
export const checkpoint = (init: MessageInitShape<typeof CheckpointSavedSchema>): Event =>
  event({ case: "checkpoint", value: create(CheckpointSavedSchema, init) });

export const evalResult = (init: MessageInitShape<typeof EvalResultSchema>): Event =>
  event({ case: "eval", value: create(EvalResultSchema, init) });

/** An opaque RGB PNG, `pixels` row-major. */
export function pngOf(width: number, height: number, pixels: readonly [number, number, number][]): Uint8Array {
  const png = new PNG({ width, height });
  pixels.forEach(([r, g, b], i) => png.data.set([r, g, b, 255], i * 4));
  return new Uint8Array(PNG.sync.write(png));
}
