/**
 * The trainer's end of the bridge. The `control` ROUTER answers commands (hello, ping and snapshot here; pause,
 * resume, stop and checkpoint_now by the trainer's handler); the `observe` ROUTER answers only the read-only ones; a PUB
 * socket streams events, each `[topic, Event]`, numbered by `seq`. Publishing never waits: frames go through a bounded
 * queue that sheds image batches first, and the PUB high-water mark drops frames for a subscriber that stops reading.
 *
 * With CURVE keys every socket is encrypted and a ZAP handler admits only allowed client keys: controller keys on
 * `control`, controller or observer keys on `observe` and `events`.
 */
import { create } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
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
import type { KeyPair } from "./curve.js";
import { assertSafeBind, type Endpoints } from "./endpoints.js";
import { EventRing } from "./event-ring.js";
import {
  FINAL_GRACE_MS,
  MAX_FRAME_BYTES,
  PROTOCOL_MAJOR,
  PROTOCOL_MINOR,
  decodeCommand,
  encodeEvent,
  encodeResult,
} from "./protocol.js";
import { SendQueue } from "./send-queue.js";
import { ZapHandler, type ZapDomain, type ZapPolicy } from "./zap.js";

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
  /** Seq of the last event published before this process (a resumed run continues the numbering). */
  startSeq?: number;
  /** Encrypt and authenticate: the server's key pair and who may connect. */
  curve?: { keys: KeyPair; policy: ZapPolicy };
}

type Reply = [Uint8Array, Uint8Array];

const MUTATING = new Set(["pause", "resume", "stop", "checkpointNow"]);

export class TrainerServer {
  private readonly ring: EventRing;
  private readonly pubQueue: SendQueue<[string, Uint8Array]>;
  private seq = 0;
  private status: Status | undefined;
  private readonly instanceId = randomUUID();
  private readonly loops: Promise<void>[];
  /** Resolves when a client confirms it has every event of an ended run (see FINAL_GRACE_MS). */
  private confirmed!: () => void;
  private readonly caughtUp = new Promise<void>((resolve) => (this.confirmed = resolve));
  /** Frames that could not be decoded or were refused. */
  badFrames = 0;

  private constructor(
    private readonly control: zmq.Router,
    private readonly observe: zmq.Router,
    private readonly pub: zmq.Publisher,
    private readonly zap: ZapHandler | undefined,
    private readonly opts: TrainerServerOptions,
  ) {
    this.ring = new EventRing(opts.ringCapacity ?? 20_000, opts.keepImageBatches ?? 4);
    this.seq = opts.startSeq ?? 0;
    const shedImagesFirst = (q: readonly [string, Uint8Array][]) => Math.max(0, q.findIndex(([t]) => t === "images"));
    this.pubQueue = new SendQueue(pub, opts.publishQueueLimit ?? 1000, shedImagesFirst);
    this.loops = [this.serve(control, false), this.serve(observe, true)];
  }

  static async bind(opts: TrainerServerOptions): Promise<TrainerServer> {
    for (const endpoint of [opts.control, opts.events, opts.observe]) assertSafeBind(endpoint, Boolean(opts.curve));
    const zap = opts.curve ? await ZapHandler.start(opts.curve.policy) : undefined;
    const security = (domain: ZapDomain) =>
      opts.curve
        ? { curveServer: true, curvePublicKey: opts.curve.keys.publicKey, curveSecretKey: opts.curve.keys.secretKey, zapDomain: domain }
        : {};
    const routerOptions = { linger: 1000, maxMessageSize: MAX_FRAME_BYTES, sendHighWaterMark: 1000 };
    const control = new zmq.Router({ ...routerOptions, ...security("control") });
    const observe = new zmq.Router({ ...routerOptions, ...security("observe") });
    const pub = new zmq.Publisher({ linger: 2000, sendHighWaterMark: 1000, ...security("observe") });
    try {
      await control.bind(opts.control);
      await pub.bind(opts.events);
      await observe.bind(opts.observe);
    } catch (err) {
      for (const socket of [control, observe, pub]) socket.close();
      await zap?.close();
      throw new Error(`cannot bind ${opts.control} / ${opts.events} / ${opts.observe}: ${(err as Error).message}`);
    }
    return new TrainerServer(control, observe, pub, zap, opts);
  }

  get endpoints(): Endpoints {
    return {
      control: this.control.lastEndpoint ?? this.opts.control,
      events: this.pub.lastEndpoint ?? this.opts.events,
      observe: this.observe.lastEndpoint ?? this.opts.observe,
    };
  }

  /** Connections the ZAP handler refused (always 0 without CURVE). */
  get refusedConnections(): number {
    return this.zap?.refused ?? 0;
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

  /**
   * Sends what is queued, then closes the sockets (their linger flushes the last frames). A run that has ended keeps
   * answering until a client confirms it has every event, for at most `graceMs` (FINAL_GRACE_MS).
   */
  async close(graceMs = FINAL_GRACE_MS): Promise<void> {
    await this.pubQueue.drained();
    if (this.ended()) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.caughtUp, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
    }
    for (const socket of [this.control, this.observe, this.pub]) socket.close();
    await Promise.all(this.loops);
    await this.zap?.close();
  }

  private async serve(router: zmq.Router, readOnly: boolean): Promise<void> {
    const replies = new SendQueue<Reply>(router, 1000);
    try {
      for await (const [identity, ...frames] of router) {
        if (!identity) continue;
        const reply = await this.answer(frames, readOnly);
        replies.enqueue([identity, encodeResult(reply)]);
      }
    } catch (err) {
      if (!router.closed) throw err;
    }
    await replies.drained();
  }

  private async answer(frames: Buffer[], readOnly: boolean): Promise<CommandResult> {
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
    if (readOnly && cmd.kind.case && MUTATING.has(cmd.kind.case)) {
      this.badFrames++;
      return this.result(cmd.id, false, `${cmd.kind.case} refused: this is the read-only observer endpoint; commands need a controller key on the control endpoint`);
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
            observeEndpoint: this.endpoints.observe,
            instanceId: this.instanceId,
            startSeq: this.opts.startSeq ?? 0,
          }),
        });
      case "ping":
        return this.result(cmd.id, true, "pong");
      case "snapshot":
        if (this.ended() && cmd.kind.value.afterSeq >= this.seq) this.confirmed();
        return this.result(cmd.id, true, "snapshot", {
          snapshot: create(SnapshotSchema, {
            runId: this.opts.runId,
            seq: this.seq,
            firstSeq: this.ring.firstSeq,
            status: this.status,
            configJson: this.opts.configJson,
            events: this.ring.after(cmd.kind.value.afterSeq),
            badFrames: this.badFrames,
            instanceId: this.instanceId,
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

  private ended(): boolean {
    return this.status?.state === RunState.DONE || this.status?.state === RunState.FAILED;
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
