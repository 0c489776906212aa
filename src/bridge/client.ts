/**
 * The client's end of the bridge (zguide "Clone" pattern): subscribe to the PUB socket first, then ask the ROUTER for
 * a snapshot of held events, then pass live events on, dropping any whose seq was already seen and filling a gap in
 * seq (a subscription that started late, a dropped frame) with a snapshot of just the missing range.
 */
import { create } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import {
  CheckpointNowSchema,
  CommandResultSchema,
  ErrorSchema,
  EventSchema,
  HelloSchema,
  PauseSchema,
  PingSchema,
  ResumeSchema,
  RunState,
  SnapshotRequestSchema,
  StopSchema,
  type Command,
  type CommandResult,
  type Event,
  type Hello,
  type Snapshot,
} from "../gen/alignprop/v1/alignprop_pb.js";
import { AsyncQueue } from "./async-queue.js";
import type { KeyPair } from "./curve.js";
import { companionEndpoints, reachableEndpoint } from "./endpoints.js";
import { MAX_FRAME_BYTES, PROTOCOL_MAJOR, PROTOCOL_MINOR, TOPICS, decodeEvent, decodeResult, encodeCommand, newCommand } from "./protocol.js";
import type { RunController } from "./run-controller.js";
import { SendQueue } from "./send-queue.js";

/** How a spawned trainer process ended. */
export interface ProcessExit {
  exitCode: number | undefined;
  signal: string | undefined;
  stderrTail: string;
}

export interface TrainerClientOptions {
  agent?: string;
  /** How long a command may wait for its answer. */
  timeoutMs?: number;
  /** Set when this client spawned the trainer: its death ends the stream with an error event. */
  processExit?: Promise<ProcessExit>;
  /** CURVE: the trainer's public key and this client's key pair. */
  curve?: { serverPublicKey: string; keys: KeyPair };
  /** Read-only: connect to the trainer's observe endpoint (beside `control`); commands are refused there. */
  observer?: boolean;
}

const curveClient = ({ curve }: TrainerClientOptions) =>
  curve ? { curveServerKey: curve.serverPublicKey, curvePublicKey: curve.keys.publicKey, curveSecretKey: curve.keys.secretKey } : {};

const isTerminal = (e: Event) =>
  e.payload.case === "status" && (e.payload.value.state === RunState.DONE || e.payload.value.state === RunState.FAILED);

export class TrainerClient implements RunController {
  private readonly pending = new Map<string, (r: CommandResult) => void>();
  private readonly sendQueue: SendQueue<[Uint8Array]>;
  private readonly queue = new AsyncQueue<Event>();
  private readonly replies: Promise<void>;
  private sub: zmq.Subscriber | undefined;
  private lastSeq = 0;
  private started = false;
  private closed = false;
  hello: Hello | undefined;
  /** Live frames that could not be decoded. */
  badFrames = 0;

  private constructor(
    private readonly control: string,
    private readonly dealer: zmq.Dealer,
    private readonly opts: TrainerClientOptions,
  ) {
    this.sendQueue = new SendQueue(dealer, 1000);
    this.replies = this.readReplies();
    opts.processExit?.then((exit) => this.onProcessExit(exit));
  }

  /**
   * Connects to a trainer (given its control endpoint; observers are sent to the observe endpoint beside it) and checks
   * its protocol version.
   */
  static async connect(control: string, opts: TrainerClientOptions = {}): Promise<TrainerClient> {
    const target = opts.observer ? companionEndpoints(control).observe : control;
    const dealer = new zmq.Dealer({ linger: 0, maxMessageSize: MAX_FRAME_BYTES, ...curveClient(opts) });
    dealer.connect(target);
    const client = new TrainerClient(target, dealer, opts);
    const hello = create(HelloSchema, {
      protocolMajor: PROTOCOL_MAJOR,
      protocolMinor: PROTOCOL_MINOR,
      agent: opts.agent ?? "alignprop-client",
    });
    try {
      const result = await client.request({ case: "hello", value: hello });
      if (!result.ok || !result.hello) throw new Error(result.message);
      client.hello = result.hello;
    } catch (err) {
      await client.close();
      const hint = opts.curve ? " (is this client's public key on the trainer's allow-list?)" : "";
      throw new Error(`cannot attach to trainer at ${target}: ${(err as Error).message}${hint}`);
    }
    return client;
  }

  events(): AsyncIterable<Event> {
    if (!this.started) {
      this.started = true;
      void this.stream().catch((err: unknown) => this.fail(`event stream broke: ${(err as Error).message}`));
    }
    return this.queue;
  }

  pause = () => this.request({ case: "pause", value: create(PauseSchema) });
  resume = () => this.request({ case: "resume", value: create(ResumeSchema) });
  stop = () => this.request({ case: "stop", value: create(StopSchema) });
  checkpointNow = () => this.request({ case: "checkpointNow", value: create(CheckpointNowSchema) });
  ping = () => this.request({ case: "ping", value: create(PingSchema) });

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.end();
    this.sub?.close();
    this.dealer.close();
    for (const [, resolve] of this.pending) resolve(this.localFailure("client closed"));
    this.pending.clear();
    await this.replies;
  }

  /** Sends one command and resolves with the trainer's answer (or a failed result on timeout / close). */
  request(kind: Command["kind"]): Promise<CommandResult> {
    if (this.closed) return Promise.resolve(this.localFailure("client closed"));
    const id = randomUUID();
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer from ${this.control} to ${kind.case} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sendQueue.enqueue([encodeCommand(newCommand(id, kind))]);
    });
  }

  private async readReplies(): Promise<void> {
    try {
      for await (const [frame] of this.dealer) {
        const decoded = decodeResult(frame);
        if (!decoded.ok) continue;
        const resolve = this.pending.get(decoded.value.id);
        this.pending.delete(decoded.value.id);
        resolve?.(decoded.value);
      }
    } catch (err) {
      if (!this.dealer.closed) throw err;
    }
  }

  private async stream(): Promise<void> {
    const sub = new zmq.Subscriber({ linger: 0, maxMessageSize: MAX_FRAME_BYTES, ...curveClient(this.opts) });
    this.sub = sub;
    for (const topic of TOPICS) sub.subscribe(topic);
    sub.connect(reachableEndpoint(this.control, this.hello!.eventsEndpoint));
    await this.fill(0);
    try {
      for await (const [, bytes] of sub) {
        const decoded = decodeEvent(bytes);
        if (!decoded.ok) {
          this.badFrames++;
          continue;
        }
        if (decoded.value.seq > this.lastSeq + 1) await this.fill(this.lastSeq);
        this.emit(decoded.value);
        if (this.queue.isEnded) break;
      }
    } catch (err) {
      if (!sub.closed) throw err;
    }
  }

  /** The trainer's held events with seq > afterSeq, its status and counters. */
  async snapshot(afterSeq = 0): Promise<Snapshot> {
    const result = await this.request({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq }) });
    if (!result.ok || !result.snapshot) throw new Error(`snapshot refused: ${result.message}`);
    return result.snapshot;
  }

  /** Emits held events with seq > afterSeq from a snapshot. */
  private async fill(afterSeq: number): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = await this.snapshot(afterSeq);
    } catch (err) {
      if (this.closed) return;
      throw err;
    }
    for (const event of snapshot.events) this.emit(event);
  }

  private emit(event: Event): void {
    if (event.seq <= this.lastSeq || this.queue.isEnded) return;
    this.lastSeq = event.seq;
    this.queue.push(event);
    if (isTerminal(event)) void this.close();
  }

  private onProcessExit(exit: ProcessExit): void {
    if (this.queue.isEnded) return;
    if (exit.exitCode === 0) {
      // A clean exit published DONE before leaving; give the last frames a moment to arrive, then end.
      setTimeout(() => void this.close(), 3000).unref();
      return;
    }
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    this.fail(`trainer process ${how}`, exit);
  }

  private fail(message: string, exit?: ProcessExit): void {
    if (this.queue.isEnded) return;
    const error = create(ErrorSchema, {
      message,
      source: exit ? "process" : "protocol",
      exitCode: exit ? (exit.exitCode ?? -1) : 0,
      signal: exit?.signal ?? "",
      stderrTail: exit?.stderrTail ?? "",
    });
    this.queue.push(
      create(EventSchema, {
        runId: this.hello?.runId ?? "",
        seq: this.lastSeq + 1,
        timeUnixMs: Date.now(),
        payload: { case: "error", value: error },
      }),
    );
    void this.close();
  }

  private localFailure(message: string): CommandResult {
    return create(CommandResultSchema, { ok: false, message, state: RunState.UNSPECIFIED });
  }
}
