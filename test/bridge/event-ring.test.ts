import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { EventRing } from "../../src/bridge/event-ring.js";
import {
  EventSchema,
  ImageBatchSchema,
  ImageSchema,
  MetricsSchema,
  RunState,
  StatusSchema,
  type Event,
} from "../../src/gen/alignprop/v1/alignprop_pb.js";

const status = (seq: number, state = RunState.RUNNING): Event =>
  create(EventSchema, { seq, payload: { case: "status", value: create(StatusSchema, { state, step: seq }) } });

const metrics = (seq: number): Event =>
  create(EventSchema, { seq, payload: { case: "metrics", value: create(MetricsSchema, { step: seq, loss: seq / 10 }) } });

const images = (seq: number): Event =>
  create(EventSchema, {
    seq,
    payload: {
      case: "images",
      value: create(ImageBatchSchema, {
        step: seq,
        images: [
          create(ImageSchema, { png: new Uint8Array([137, 80, 78, seq]), prompt: `a red circle ${seq}`, reward: seq / 100 }),
          create(ImageSchema, { png: new Uint8Array([137, 80, 78, seq + 1]), prompt: `a blue square ${seq}`, reward: 0.5 }),
        ],
      }),
    },
  });

const seqs = (events: Event[]) => events.map((e) => e.seq);

function batch(event: Event | undefined) {
  assert.equal(event?.payload.case, "images");
  if (event?.payload.case !== "images") throw new Error("unreachable");
  return event.payload.value;
}

test("a ring below capacity holds every event in order", () => {
  const ring = new EventRing(10, 4);
  ring.add(status(1));
  ring.add(metrics(2));
  ring.add(metrics(3));
  assert.deepEqual(seqs(ring.after(0)), [1, 2, 3]);
});

test("a full ring evicts the oldest event", () => {
  const ring = new EventRing(3, 4);
  for (let seq = 1; seq <= 5; seq++) ring.add(metrics(seq));
  assert.deepEqual(seqs(ring.after(0)), [3, 4, 5]);
});

test("a full ring keeps the latest status event however old it is", () => {
  const ring = new EventRing(3, 4);
  ring.add(status(1, RunState.PAUSED));
  for (let seq = 2; seq <= 50; seq++) ring.add(metrics(seq));
  const held = ring.after(0);
  assert.deepEqual(seqs(held), [1, 49, 50]);
  assert.equal(held[0]!.payload.case, "status");
});

test("a newer status replaces the older one as the event the ring protects", () => {
  const ring = new EventRing(3, 4);
  ring.add(status(1, RunState.STARTING));
  ring.add(metrics(2));
  ring.add(status(3, RunState.RUNNING));
  for (let seq = 4; seq <= 10; seq++) ring.add(metrics(seq));
  const held = ring.after(0);
  assert.deepEqual(seqs(held), [3, 9, 10]);
  assert.equal(held[0]!.payload.case === "status" && held[0]!.payload.value.state, RunState.RUNNING);
});

test("image batches older than the newest keepImageBatches lose their PNG bytes but keep prompts and rewards", () => {
  const ring = new EventRing(100, 2);
  for (const seq of [1, 2, 3, 4]) ring.add(images(seq));
  const [first, second, third, fourth] = ring.after(0);
  for (const old of [first, second]) {
    const value = batch(old);
    assert.equal(value.pixelsDropped, true);
    assert.deepEqual(
      value.images.map((i) => i.png.length),
      [0, 0],
    );
    assert.deepEqual(
      value.images.map((i) => i.prompt),
      [`a red circle ${old!.seq}`, `a blue square ${old!.seq}`],
    );
    assert.deepEqual(
      value.images.map((i) => i.reward),
      [old!.seq / 100, 0.5],
    );
    assert.equal(value.step, old!.seq);
  }
  for (const recent of [third, fourth]) {
    const value = batch(recent);
    assert.equal(value.pixelsDropped, false);
    assert.deepEqual(value.images[0]!.png, new Uint8Array([137, 80, 78, recent!.seq]));
  }
});

test("dropping pixels never mutates the event object that was passed to add()", () => {
  const ring = new EventRing(100, 1);
  const original = images(1);
  ring.add(original);
  ring.add(images(2));
  assert.equal(batch(ring.after(0)[0]).pixelsDropped, true, "the held copy lost its pixels");
  const value = batch(original);
  assert.equal(value.pixelsDropped, false);
  assert.deepEqual(value.images[0]!.png, new Uint8Array([137, 80, 78, 1]));
  assert.deepEqual(value.images[1]!.png, new Uint8Array([137, 80, 78, 2]));
});

test("pixel dropping counts image batches only, not other events in between", () => {
  const ring = new EventRing(100, 2);
  ring.add(images(1));
  for (let seq = 2; seq <= 20; seq++) ring.add(metrics(seq));
  ring.add(images(21));
  assert.equal(batch(ring.after(0)[0]).pixelsDropped, false, "two batches held, both keep pixels");
  ring.add(images(22));
  assert.equal(batch(ring.after(0)[0]).pixelsDropped, true);
});

test("an image batch already evicted from the ring is skipped when its pixels would be dropped", () => {
  const ring = new EventRing(2, 1);
  ring.add(images(1));
  ring.add(metrics(2));
  ring.add(metrics(3));
  ring.add(images(4));
  assert.deepEqual(seqs(ring.after(0)), [3, 4]);
  assert.equal(batch(ring.after(0)[1]).pixelsDropped, false);
});

test("after(seq) returns only events with a greater seq, in order", () => {
  const ring = new EventRing(100, 4);
  for (let seq = 1; seq <= 10; seq++) ring.add(seq % 3 === 0 ? status(seq) : metrics(seq));
  assert.deepEqual(seqs(ring.after(6)), [7, 8, 9, 10]);
  assert.deepEqual(seqs(ring.after(10)), []);
  assert.deepEqual(seqs(ring.after(0)), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test("firstSeq is 0 for an empty ring and the oldest held seq after eviction", () => {
  const ring = new EventRing(3, 4);
  assert.equal(ring.firstSeq, 0);
  ring.add(metrics(1));
  assert.equal(ring.firstSeq, 1);
  for (let seq = 2; seq <= 7; seq++) ring.add(metrics(seq));
  assert.equal(ring.firstSeq, 5);
});
