/**
 * The client's end of the bridge (zguide "Clone" pattern): subscribe to the PUB socket first, then ask for a snapshot
 * of held events, then pass live events on, dropping any whose seq was already seen and filling a gap in seq (a
 * subscription that started late, a dropped frame, a network blip) with a snapshot of just the missing range.
 *
 * With `reconnect` (attach), the control path is watched by heartbeats: a snapshot request for anything after the
 * last seq seen, which also delivers events a dead subscription missed. After `deadAfterMs` without an answer the
 * client reconnects with backoff and resumes from a snapshot. A trainer that restarted (another instance, resumed
 * from a checkpoint) continues from its own start seq, which the client follows — noticed at the reconnect's hello,
 * or by a heartbeat answered by the new instance when ZeroMQ reconnected the sockets before any silence showed.
 */
import { create } from "@bufbuild/protobuf";
import * as zmq from "zeromq";
import {
  CheckpointNowSchema,
  ErrorSchema,
  EventSchema,
  LogLevel,
  LogSchema,
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
import { Connection, curveClient, localFailure, type CurveClientKeys } from "./connection.js";
import { companionEndpoints, reachableEndpoint } from "./endpoints.js";
import { MAX_FRAME_BYTES, TOPICS, decodeEvent } from "./protocol.js";
import type { RunController } from "./run-controller.js";

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
  curve?: CurveClientKeys;
  /** Read-only: connect to the trainer's observe endpoint (beside `control`); commands are refused there. */
  observer?: boolean;
  /** Survive network drops and trainer restarts (attach). */
  reconnect?: boolean;
  /** Heartbeat when the trainer has not answered for this long (reconnect mode). */
  heartbeatMs?: number;
  /** Reconnect when the trainer has not answered for this long (reconnect mode). */
  deadAfterMs?: number;
}

/** How long the client waits for the trainer to take its confirmation of the terminal event. */
const CONFIRM_TIMEOUT_MS = 1000;

const isTerminal = (e: Event) =>
  e.payload.case === "status" && (e.payload.value.state === RunState.DONE || e.payload.value.state === RunState.FAILED);

export class TrainerClient implements RunController {
  private readonly queue = new AsyncQueue<Event>();
  private sub: zmq.Subscriber | undefined;
  private lastSeq = 0;
  private lastHeard = Date.now();
  private started = false;
  private closed = false;
  private reconnecting: Promise<void> | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** Live frames that could not be decoded. */
  badFrames = 0;
  /** Times the client reconnected. */
  reconnects = 0;

  private constructor(
    private readonly target: string,
    private connection: Connection,
    private readonly opts: TrainerClientOptions,
  ) {
    opts.processExit?.then((exit) => this.onProcessExit(exit));
  }

  /**
   * Connects to a trainer (given its control endpoint; observers are sent to the observe endpoint beside it) and checks
   * its protocol version.
   */
  static async connect(control: string, opts: TrainerClientOptions = {}): Promise<TrainerClient> {
    const target = opts.observer ? companionEndpoints(control).observe : control;
    let client: TrainerClient | undefined;
    const connection = await Connection.open(target, { ...opts, onHeard: () => client?.heard() });
    client = new TrainerClient(target, connection, opts);
    return client;
  }

  get hello(): Hello {
    return this.connection.hello;
  }

  events(): AsyncIterable<Event> {
    if (!this.started) {
      this.started = true;
      if (this.opts.reconnect) this.startWatchdog();
      void this.stream().catch((err: unknown) => this.fail(`event stream broke: ${(err as Error).message}`));
    }
    return this.queue;
  }

  pause = () => this.request({ case: "pause", value: create(PauseSchema) });
  resume = () => this.request({ case: "resume", value: create(ResumeSchema) });
  stop = () => this.request({ case: "stop", value: create(StopSchema) });
  checkpointNow = () => this.request({ case: "checkpointNow", value: create(CheckpointNowSchema) });
  ping = () => this.request({ case: "ping", value: create(PingSchema) });

  /** Sends one command and resolves with the trainer's answer (a failed result while reconnecting or closed). */
  request(kind: Command["kind"]): Promise<CommandResult> {
    if (this.reconnecting) return Promise.resolve(localFailure("not connected: reconnecting to the trainer"));
    return this.connection.request(kind);
  }

  /** The trainer's held events with seq > afterSeq, its status and counters. */
  async snapshot(afterSeq = 0): Promise<Snapshot> {
    const result = await this.request({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq }) });
    if (!result.ok || !result.snapshot) throw new Error(`snapshot refused: ${result.message}`);
    return result.snapshot;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    this.queue.end();
    this.sub?.close();
    await this.connection.close();
  }

  private heard(): void {
    this.lastHeard = Date.now();
  }

  private async stream(): Promise<void> {
    while (!this.closed) {
      const sub = new zmq.Subscriber({ linger: 0, maxMessageSize: MAX_FRAME_BYTES, ...curveClient(this.opts.curve) });
      this.sub = sub;
      for (const topic of TOPICS) sub.subscribe(topic);
      sub.connect(reachableEndpoint(this.target, this.hello.eventsEndpoint));
      try {
        await this.fill(this.lastSeq);
        for await (const [, bytes] of sub) {
          const decoded = decodeEvent(bytes);
          if (!decoded.ok) {
            this.badFrames++;
            continue;
          }
          if (decoded.value.seq > this.lastSeq + 1) await this.fill(this.lastSeq);
          this.emit(decoded.value);
          if (this.queue.isEnded) return;
        }
      } catch (err) {
        // A socket closed by close() or by a reconnect ends the loop; anything else is a real failure.
        if (!sub.closed && !this.reconnecting) throw err;
      }
      if (!this.reconnecting) return;
      await this.reconnecting;
    }
  }

  /** Emits held events with seq > afterSeq from a snapshot. */
  private async fill(afterSeq: number): Promise<void> {
    let snapshot: Snapshot;
    try {
      snapshot = await this.snapshot(afterSeq);
    } catch (err) {
      if (this.closed || this.reconnecting) return;
      throw err;
    }
    for (const event of snapshot.events) this.emit(event);
  }

  private emit(event: Event): void {
    if (event.seq <= this.lastSeq || this.queue.isEnded) return;
    this.lastSeq = event.seq;
    this.queue.push(event);
    if (isTerminal(event)) void this.finish(event.seq);
  }

  /**
   * Ends the stream at the run's terminal event and tells the trainer this client has every event (a snapshot of
   * nothing after it), so the trainer need not wait out its final grace (TrainerServer.close), then closes.
   */
  private async finish(seq: number): Promise<void> {
    this.queue.end();
    if (!this.reconnecting && !this.closed) {
      const confirm = { case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: seq }) } as const;
      await this.connection.request(confirm, CONFIRM_TIMEOUT_MS).catch(() => undefined);
    }
    await this.close();
  }

  /** A note from the client itself (seq 0: not the trainer's). */
  private note(level: LogLevel, message: string): void {
    this.queue.push(create(EventSchema, { runId: this.hello.runId, seq: 0, timeUnixMs: Date.now(), payload: { case: "log", value: create(LogSchema, { level, message }) } }));
  }

  private startWatchdog(): void {
    const heartbeat = this.opts.heartbeatMs ?? 1000;
    const deadAfter = this.opts.deadAfterMs ?? 5000;
    this.watchdog = setInterval(() => {
      const silent = Date.now() - this.lastHeard;
      if (this.closed || this.reconnecting) return;
      if (silent > deadAfter) this.reconnecting = this.reconnect(`no word from the trainer at ${this.target} for ${(silent / 1000).toFixed(1)} s; reconnecting`);
      else if (silent > heartbeat && !this.beating) void this.heartbeat(deadAfter);
    }, Math.max(50, Math.floor(heartbeat / 2)));
    this.watchdog.unref();
  }

  private beating = false;

  /** One heartbeat: a snapshot of what came after the last seq seen (usually nothing). */
  private async heartbeat(timeoutMs: number): Promise<void> {
    this.beating = true;
    try {
      const result = await this.connection.request({ case: "snapshot", value: create(SnapshotRequestSchema, { afterSeq: this.lastSeq }) }, timeoutMs);
      const instance = result.snapshot?.instanceId;
      if (instance && instance !== this.hello.instanceId && !this.reconnecting && !this.closed) {
        // ZeroMQ reconnected to a restarted trainer by itself: say hello again and follow it from its start seq.
        this.reconnecting = this.reconnect("another trainer process answered (it restarted); reconnecting");
        return;
      }
      for (const event of result.snapshot?.events ?? []) this.emit(event);
    } catch {
      // No answer: the watchdog notices the silence and reconnects.
    } finally {
      this.beating = false;
    }
  }

  /** Drops both sockets and connects again with backoff until the trainer answers (or the client is closed). */
  private async reconnect(why: string): Promise<void> {
    this.note(LogLevel.WARN, why);
    const previous = this.hello;
    this.sub?.close();
    await this.connection.close("connection lost");
    for (let delay = 250; !this.closed; delay = Math.min(delay * 2, 8000)) {
      try {
        this.connection = await Connection.open(this.target, { ...this.opts, onHeard: () => this.heard() }, Math.max(1000, delay * 2));
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
    if (this.closed) return;
    this.reconnects++;
    this.heard();
    if (this.hello.instanceId !== previous.instanceId) {
      // A restarted trainer resumed from a checkpoint: its events continue from there, not from what we saw.
      this.lastSeq = Math.min(this.lastSeq, this.hello.startSeq);
      this.note(LogLevel.WARN, `the trainer restarted (resumed at event ${this.hello.startSeq}); following the new process`);
    } else {
      this.note(LogLevel.INFO, "reconnected; catching up from the trainer's snapshot");
    }
    this.reconnecting = undefined;
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
    this.queue.push(create(EventSchema, { runId: this.hello.runId, seq: this.lastSeq + 1, timeUnixMs: Date.now(), payload: { case: "error", value: error } }));
    void this.close();
  }
}
