import assert from "node:assert/strict";
import { test } from "node:test";
import { SendQueue, type Sendable } from "../../src/bridge/send-queue.js";

type Frames = [string, Uint8Array];

/**
 * Behaves like a zeromq.js socket: one pending send at a time, a second one fails with EBUSY. Each send stays pending
 * until the test releases it, so the test decides when the peer "reads".
 */
class FakeSocket implements Sendable {
  readonly sent: Array<Array<Uint8Array | string>> = [];
  busyErrors = 0;
  private pending: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private nextSend: (() => void) | undefined;

  send(frames: Array<Uint8Array | string>): Promise<void> {
    if (this.pending) {
      this.busyErrors++;
      return Promise.reject(Object.assign(new Error("Socket is busy writing; only one send operation may be in progress at any time"), { code: "EBUSY" }));
    }
    this.sent.push(frames);
    const next = this.nextSend;
    this.nextSend = undefined;
    next?.();
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }

  get busy(): boolean {
    return this.pending !== undefined;
  }

  /** Completes the pending send and resolves once the queue had its turn to hand over the next frame. */
  async release(): Promise<void> {
    this.settle()?.resolve();
    await flush();
  }

  async fail(message: string): Promise<void> {
    this.settle()?.reject(new Error(message));
    await flush();
  }

  /** Resolves at the next call to send(). */
  nextSendCall(): Promise<void> {
    return new Promise((resolve) => (this.nextSend = resolve));
  }

  private settle() {
    const p = this.pending;
    assert.ok(p, "a send is pending");
    this.pending = undefined;
    return p;
  }
}

/** Lets every already-queued promise continuation run. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const frame = (topic: string, n: number): Frames => [topic, new Uint8Array([n])];
const label = (frames: Array<Uint8Array | string>) => `${frames[0]}:${(frames[1] as Uint8Array)[0]}`;

test("frames are sent one at a time, in order, never while a previous send is pending", async () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 100);
  for (let i = 0; i < 5; i++) queue.enqueue(frame("metrics", i));
  assert.equal(socket.sent.length, 1, "only the first frame is handed over while its send is pending");
  while (socket.busy) await socket.release();
  assert.deepEqual(socket.sent.map(label), ["metrics:0", "metrics:1", "metrics:2", "metrics:3", "metrics:4"]);
  assert.equal(socket.busyErrors, 0);
  assert.equal(queue.failed, 0);
  assert.equal(queue.dropped, 0);
});

test("frames enqueued while a send is pending, between releases, are still serialised", async () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 100);
  queue.enqueue(frame("log", 0));
  for (let i = 1; i < 20; i++) {
    queue.enqueue(frame("log", i));
    await socket.release();
  }
  while (socket.busy) await socket.release();
  assert.equal(socket.busyErrors, 0);
  assert.deepEqual(
    socket.sent.map(label),
    Array.from({ length: 20 }, (_, i) => `log:${i}`),
  );
});

test("a full queue drops the oldest frame by default and counts the drop", async () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 2);
  queue.enqueue(frame("log", 0)); // handed to the socket at once
  queue.enqueue(frame("log", 1));
  queue.enqueue(frame("log", 2));
  queue.enqueue(frame("log", 3)); // queue full: log:1 goes
  assert.equal(queue.dropped, 1);
  while (socket.busy) await socket.release();
  assert.deepEqual(socket.sent.map(label), ["log:0", "log:2", "log:3"]);
});

test("a full queue drops the frame the shed function picks: image batches before anything else", async () => {
  const socket = new FakeSocket();
  const shedImagesFirst = (q: readonly Frames[]) => Math.max(0, q.findIndex(([t]) => t === "images"));
  const queue = new SendQueue<Frames>(socket, 3, shedImagesFirst);
  queue.enqueue(frame("status", 0)); // in flight
  queue.enqueue(frame("metrics", 1));
  queue.enqueue(frame("images", 2));
  queue.enqueue(frame("metrics", 3));
  queue.enqueue(frame("images", 4)); // full: images:2 goes
  queue.enqueue(frame("metrics", 5)); // full: images:4 goes
  queue.enqueue(frame("metrics", 6)); // full, no images left: the oldest (metrics:1) goes
  assert.equal(queue.dropped, 3);
  while (socket.busy) await socket.release();
  assert.deepEqual(socket.sent.map(label), ["status:0", "metrics:3", "metrics:5", "metrics:6"]);
});

test("enqueue never waits for the socket, however many frames pile up", () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 10);
  for (let i = 0; i < 10_000; i++) queue.enqueue(frame("metrics", i % 256));
  assert.equal(socket.sent.length, 1);
  assert.equal(queue.dropped, 10_000 - 1 - 10);
});

test("drained() resolves at once when nothing was ever queued", async () => {
  const queue = new SendQueue<Frames>(new FakeSocket(), 10);
  await queue.drained();
});

test("drained() resolves only after every queued frame was handed to the socket", async () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 10);
  for (let i = 0; i < 3; i++) queue.enqueue(frame("log", i));
  let drained = false;
  const done = queue.drained().then(() => (drained = true));
  await socket.release();
  await socket.release();
  assert.equal(drained, false, "the last send is still pending");
  await socket.release();
  await done;
  assert.equal(drained, true);
  assert.equal(socket.sent.length, 3);
});

test("a rejected send counts as failed and the queue goes on with the next frame", async () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 10);
  for (let i = 0; i < 3; i++) queue.enqueue(frame("log", i));
  await socket.fail("Socket is closed");
  await socket.release();
  await socket.fail("Host unreachable");
  await queue.drained();
  assert.equal(queue.failed, 2);
  assert.deepEqual(socket.sent.map(label), ["log:0", "log:1", "log:2"]);
});

test("a send that throws synchronously counts as failed and the queue goes on", async () => {
  const sent: string[] = [];
  const socket: Sendable = {
    send(frames) {
      if (frames[0] === "bad") throw new Error("Socket is closed");
      sent.push(String(frames[0]));
      return Promise.resolve();
    },
  };
  const queue = new SendQueue<[string]>(socket, 10);
  queue.enqueue(["bad"]);
  queue.enqueue(["good"]);
  await queue.drained();
  assert.equal(queue.failed, 1);
  assert.deepEqual(sent, ["good"]);
});

test("after draining, a new frame starts the pump again", async () => {
  const socket = new FakeSocket();
  const queue = new SendQueue<Frames>(socket, 10);
  queue.enqueue(frame("log", 0));
  await socket.release();
  await queue.drained();
  const called = socket.nextSendCall();
  queue.enqueue(frame("log", 1));
  await called;
  await socket.release();
  await queue.drained();
  assert.deepEqual(socket.sent.map(label), ["log:0", "log:1"]);
  assert.equal(socket.busyErrors, 0);
});
