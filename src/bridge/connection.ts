/**
 * One DEALER connection to a trainer's control (or observe) socket: the protocol handshake, then requests matched to
 * replies by id. Only one send may be pending on a zeromq.js socket, so sends go through a SendQueue.
 */
import { create } from "@bufbuild/protobuf";
import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { CommandResultSchema, HelloSchema, RunState, type Command, type CommandResult, type Hello } from "../gen/alignprop/v1/alignprop_pb.js";
import type { KeyPair } from "./curve.js";
import { MAX_FRAME_BYTES, PROTOCOL_MAJOR, PROTOCOL_MINOR, decodeResult, encodeCommand, newCommand } from "./protocol.js";
import { SendQueue } from "./send-queue.js";

export interface CurveClientKeys {
  serverPublicKey: string;
  keys: KeyPair;
}

export interface ConnectionOptions {
  agent?: string;
  /** How long a command may wait for its answer. */
  timeoutMs?: number;
  curve?: CurveClientKeys;
  /** Called whenever the trainer answers (the client's liveness signal). */
  onHeard?: () => void;
}

/** zeromq.js socket options for a CURVE client. */
export const curveClient = (curve: CurveClientKeys | undefined) =>
  curve ? { curveServerKey: curve.serverPublicKey, curvePublicKey: curve.keys.publicKey, curveSecretKey: curve.keys.secretKey } : {};

export const localFailure = (message: string): CommandResult =>
  create(CommandResultSchema, { ok: false, message, state: RunState.UNSPECIFIED });

export class Connection {
  private readonly pending = new Map<string, (r: CommandResult) => void>();
  private readonly sends: SendQueue<[Uint8Array]>;
  private readonly replies: Promise<void>;
  private closed = false;
  hello!: Hello;

  private constructor(
    readonly target: string,
    private readonly dealer: zmq.Dealer,
    private readonly opts: ConnectionOptions,
  ) {
    this.sends = new SendQueue(dealer, 1000);
    this.replies = this.readReplies();
  }

  /**
   * Connects and says hello; rejects (and cleans up) when the trainer does not answer within `helloTimeoutMs` (the
   * command timeout by default) or refuses.
   */
  static async open(target: string, opts: ConnectionOptions, helloTimeoutMs?: number): Promise<Connection> {
    const dealer = new zmq.Dealer({ linger: 0, maxMessageSize: MAX_FRAME_BYTES, ...curveClient(opts.curve) });
    dealer.connect(target);
    const connection = new Connection(target, dealer, opts);
    const hello = create(HelloSchema, { protocolMajor: PROTOCOL_MAJOR, protocolMinor: PROTOCOL_MINOR, agent: opts.agent ?? "alignprop-client" });
    try {
      const result = await connection.request({ case: "hello", value: hello }, helloTimeoutMs);
      if (!result.ok || !result.hello) throw new Error(result.message);
      connection.hello = result.hello;
    } catch (err) {
      await connection.close();
      const hint = opts.curve ? " (is this client's public key on the trainer's allow-list?)" : "";
      throw new Error(`cannot attach to trainer at ${target}: ${(err as Error).message}${hint}`);
    }
    return connection;
  }

  /** Sends one command; resolves with the answer, or rejects on timeout. A closed connection answers a failure. */
  request(kind: Command["kind"], timeoutMs = this.opts.timeoutMs ?? 30_000): Promise<CommandResult> {
    if (this.closed) return Promise.resolve(localFailure("client closed"));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer from ${this.target} to ${kind.case} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.sends.enqueue([encodeCommand(newCommand(id, kind))]);
    });
  }

  async close(reason = "client closed"): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.dealer.close();
    for (const [, resolve] of this.pending) resolve(localFailure(reason));
    this.pending.clear();
    await this.replies;
  }

  private async readReplies(): Promise<void> {
    try {
      for await (const [frame] of this.dealer) {
        const decoded = decodeResult(frame);
        if (!decoded.ok) continue;
        this.opts.onHeard?.();
        const resolve = this.pending.get(decoded.value.id);
        this.pending.delete(decoded.value.id);
        resolve?.(decoded.value);
      }
    } catch (err) {
      if (!this.dealer.closed) throw err;
    }
  }
}
