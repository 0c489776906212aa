/**
 * A ZAP handler (ZeroMQ RFC 27) that admits CURVE clients by public key. Without one, a CURVE server admits any
 * client key; with this bound at `inproc://zeromq.zap.01` in the same context, a socket whose `zapDomain` is set
 * accepts only the keys its domain allows. Unknown clients get "400" and their connection never carries a message.
 */
import { Reply } from "zeromq";
import { z85Encode } from "./curve.js";

/** control: may send commands. observe: may read events and snapshots only. */
export type ZapDomain = "control" | "observe";

export interface ZapPolicy {
  controllers: readonly string[];
  observers: readonly string[];
}

export class ZapHandler {
  private readonly socket = new Reply({ linger: 0 });
  private readonly loop: Promise<void>;
  admitted = 0;
  refused = 0;

  private constructor(private readonly policy: ZapPolicy) {
    this.loop = this.serve();
  }

  static async start(policy: ZapPolicy): Promise<ZapHandler> {
    const handler = new ZapHandler(policy);
    await handler.socket.bind("inproc://zeromq.zap.01");
    return handler;
  }

  close(): Promise<void> {
    this.socket.close();
    return this.loop;
  }

  private allowed(domain: string, mechanism: string, key: string): boolean {
    if (mechanism !== "CURVE") return false;
    if (domain === "control") return this.policy.controllers.includes(key);
    if (domain === "observe") return this.policy.controllers.includes(key) || this.policy.observers.includes(key);
    return false;
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
        const [version, requestId, domain, , , mechanism, credential] = frames;
        const key = credential?.length === 32 ? z85Encode(new Uint8Array(credential)) : "";
        const ok = version?.toString() === "1.0" && this.allowed(String(domain), String(mechanism), key);
        if (ok) this.admitted++;
        else this.refused++;
        await this.socket.send(["1.0", requestId ?? "", ok ? "200" : "400", ok ? "OK" : "key not allowed", ok ? key : "", ""]);
      }
    } catch (err) {
      if (!this.socket.closed) throw err;
    }
  }
}
