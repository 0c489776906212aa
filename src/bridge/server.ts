/**
 * The trainer's end of the bridge. A ROUTER socket answers commands (hello, ping and snapshot here; pause, resume,
 * stop and checkpoint_now by the trainer's handler); a PUB socket streams events, each `[topic, Event]`, numbered by
 * `seq`. Publishing never waits: frames go through a bounded queue that sheds image batches first, and the PUB
 * high-water mark drops frames for a subscriber that stops reading.
 */
import { create } from "@bufbuild/protobuf";
import * as zmq from "zeromq";
import {
  CommandResultSchema,
  EventSchema,
  HelloSchema,
  RunState,
  SnapshotSchema,
  type Command,
  type CommandResult,
  type Event,
  type Hello,
  type Snapshot,
  type Status,
} from "../gen/alignprop/v1/alignprop_pb.js";
import { assertSafeBind, type Endpoints } from "./endpoints.js";
import { EventRing } from "./event-ring.js";
import {
  MAX_FRAME_BYTES,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  decodeCommand,
  encodeEvent,
  encodeResult,
} from "./protocol.js";
import { SendQueue } from "./send-queue.js";

/** The commands the trainer itself decides. */
export type RunCommand = "pause" | "resume" | "stop" | "checkpointNow";
export interface RunCommandOutcome {
  ok: boolean;
  message: string;
  state: RunState;
}
export type RunCommandHandler = (command: RunCommand) => Promise<RunCommandOutcome>;

export interface TrainerServerOptions extends Endpoints {
  runId: string;
  configJson: string;
  agent: string;
  handle: RunCommandHandler;
  ringCapacity?: number;
  keepImageBatches?: number;
  /** Frames queued for PUB before shedding. */
  publishQueueLimit?: number;
}

export class TrainerServer {
  private readonly ring: EventRing;
  private readonly pubQueue: SendQueue<[string, Uint8Array]>;
  private readonly replyQueue: SendQueue<[Uint8Array, Uint8Array]>;
  private seq = 0;
  private status: Status | undefined;
  private readonly loop: Promise<void>;
  /** Frames that could not be decoded or were refused. */
  badFrames = 0;

  private constructor(
    private readonly router: zmq.Router,
    private readonly pub: zmq.Publisher,
    private readonly opts: TrainerServerOptions,
  ) {
    this.ring = new EventRing(opts.ringCapacity ?? 20_000, opts.keepImageBatches ?? 4);
    const shedImagesFirst = (q: readonly [string, Uint8Array][]) => Math.max(0, q.findIndex(([t]) => t === "images"));
    this.pubQueue = new SendQueue(pub, opts.publishQueueLimit ?? 1000, shedImagesFirst);
    this.replyQueue = new SendQueue(router, 1000);
    this.loop = this.serve();
  }

  static async bind(opts: TrainerServerOptions): Promise<TrainerServer> {
    assertSafeBind(opts.control);
    assertSafeBind(opts.events);
    const router = new zmq.Router({ linger: 1000, maxMessageSize: MAX_FRAME_BYTES, sendHighWaterMark: 1000 });
    const pub = new zmq.Publisher({ linger: 2000, sendHighWaterMark: 1000 });
    try {
      await router.bind(opts.control);
      await pub.bind(opts.events);
    } catch (err) {
      router.close();
      pub.close();
      throw new Error(`cannot bind ${opts.control} / ${opts.events}: ${(err as Error).message}`);
    }
    return new TrainerServer(router, pub, opts);
  }

  get endpoints(): Endpoints {
    return { control: this.router.lastEndpoint ?? this.opts.control, events: this.pub.lastEndpoint ?? this.opts.events };
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Numbers, remembers and broadcasts one event; returns it. Never blocks. */
  publish(payload: Event["payload"]): Event {
    const event = create(EventSchema, { runId: this.opts.runId, seq: ++this.seq, timeUnixMs: Date.now(), payload });
    if (payload.case === "status") this.status = payload.value;
    this.ring.add(event);
    this.pubQueue.enqueue([payload.case ?? "unknown", encodeEvent(event)]);
    return event;
  }

  /** Sends what is queued, then closes both sockets (their linger flushes the last frames). */
  async close(): Promise<void> {
    await this.pubQueue.drained();
    await this.replyQueue.drained();
    this.router.close();
    this.pub.close();
    await this.loop;
  }

  private async serve(): Promise<void> {
    try {
      for await (const [identity, ...frames] of this.router) {
        if (!identity) continue;
        const reply = await this.answer(frames);
        this.replyQueue.enqueue([identity, encodeResult(reply)]);
      }
    } catch (err) {
      if (!this.router.closed) throw err;
    }
  }

  private async answer(frames: Buffer[]): Promise<CommandResult> {
    const decoded = frames.length === 1 ? decodeCommand(frames[0]) : { ok: false as const, error: `expected 1 frame, got ${frames.length}` };
    if (!decoded.ok) {
      this.badFrames++;
      return this.result("", false, decoded.error);
    }
    const cmd = decoded.value;
    if (cmd.protocolMajor !== PROTOCOL_MAJOR) {
      this.badFrames++;
      return this.result(
        cmd.id,
        false,
        `protocol version mismatch: peer speaks alignprop.v${cmd.protocolMajor}, this trainer speaks ` +
          `alignprop.v${PROTOCOL_MAJOR}; use matching alignprop versions`,
      );
    }
    return this.dispatch(cmd);
  }

  private async dispatch(cmd: Command): Promise<CommandResult> {
    switch (cmd.kind.case) {
      case "hello":
        return this.result(cmd.id, true, "hello", {
          hello: create(HelloSchema, {
            protocolMajor: PROTOCOL_MAJOR,
            protocolMinor: PROTOCOL_MINOR,
            agent: this.opts.agent,
            runId: this.opts.runId,
            eventsEndpoint: this.endpoints.events,
          }),
        });
      case "ping":
        return this.result(cmd.id, true, "pong");
      case "snapshot":
        return this.result(cmd.id, true, "snapshot", {
          snapshot: create(SnapshotSchema, {
            runId: this.opts.runId,
            seq: this.seq,
            firstSeq: this.ring.firstSeq,
            status: this.status,
            configJson: this.opts.configJson,
            events: this.ring.after(cmd.kind.value.afterSeq),
          }),
        });
      case "pause":
      case "resume":
      case "stop":
      case "checkpointNow": {
        const outcome = await this.opts.handle(cmd.kind.case);
        return this.result(cmd.id, outcome.ok, outcome.message, { state: outcome.state });
      }
      case undefined:
        this.badFrames++;
        return this.result(cmd.id, false, "command has no kind (unknown command from a newer client?)");
    }
  }

  private result(
    id: string,
    ok: boolean,
    message: string,
    extra: { hello?: Hello; snapshot?: Snapshot; state?: RunState } = {},
  ): CommandResult {
    return create(CommandResultSchema, {
      id,
      ok,
      message,
      state: this.status?.state ?? RunState.STARTING,
      ...extra,
    });
  }
}
