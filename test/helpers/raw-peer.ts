/** A raw DEALER peer of a trainer's command socket: it can send what a well-behaved TrainerClient never would. */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import * as zmq from "zeromq";
import { AsyncQueue } from "../../src/bridge/async-queue.js";
import { PROTOCOL_MAJOR, decodeResult, encodeCommand } from "../../src/bridge/protocol.js";
import { CommandSchema, PingSchema, type Command, type CommandResult } from "../../src/gen/alignprop/v1/alignprop_pb.js";

/** Sends any frames, and reads replies in arrival order. */
export class Peer {
  private readonly dealer = new zmq.Dealer({ linger: 0 });
  private readonly replies = new AsyncQueue<Buffer[]>();
  private readonly iterator = this.replies[Symbol.asyncIterator]();
  private readonly reading: Promise<void>;

  constructor(endpoint: string) {
    this.dealer.connect(endpoint);
    this.reading = (async () => {
      try {
        for await (const frames of this.dealer) this.replies.push(frames);
      } catch (err) {
        if (!this.dealer.closed) throw err;
      } finally {
        this.replies.end();
      }
    })();
  }

  send(frames: Uint8Array | Uint8Array[]): Promise<void> {
    return this.dealer.send(frames);
  }

  /** Sends one well-formed command and returns the reply carrying its id. */
  async command(kind: Command["kind"], protocolMajor = PROTOCOL_MAJOR): Promise<CommandResult> {
    const id = randomUUID();
    await this.send(encodeCommand(create(CommandSchema, { id, protocolMajor, kind })));
    return this.replyTo(id);
  }

  ping(): Promise<CommandResult> {
    return this.command({ case: "ping", value: create(PingSchema) });
  }

  /** The next reply, which must be one well-formed CommandResult frame. */
  async next(): Promise<CommandResult> {
    const r = await this.iterator.next();
    assert.ok(!r.done, "the peer stopped receiving before a reply came");
    assert.equal(r.value.length, 1, "a reply is one frame");
    const decoded = decodeResult(r.value[0]);
    assert.ok(decoded.ok, !decoded.ok ? decoded.error : "");
    return decoded.value;
  }

  /** Skips replies until the one to command `id`. */
  async replyTo(id: string): Promise<CommandResult> {
    for (;;) {
      const reply = await this.next();
      if (reply.id === id) return reply;
    }
  }

  async close(): Promise<void> {
    this.dealer.close();
    await this.reading;
  }
}

