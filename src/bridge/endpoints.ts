/**
 * Endpoint rules: local runs use ipc:// sockets in a private 0700 temp dir; tcp binds loopback only (serving other
 * hosts needs CURVE authentication, which this build does not offer yet, so it is refused rather than exposed).
 */
import { mkdtemp, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Endpoints {
  control: string;
  events: string;
}

/** A fresh private directory (mode 0700) holding the two ipc sockets of one local run. */
export async function privateIpcEndpoints(): Promise<Endpoints & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "alignprop-"));
  await chmod(dir, 0o700);
  return { dir, control: `ipc://${join(dir, "control.sock")}`, events: `ipc://${join(dir, "events.sock")}` };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/;

/** Throws unless `endpoint` is ipc:// or tcp:// on a loopback address. */
export function assertSafeBind(endpoint: string): void {
  if (endpoint.startsWith("ipc://")) return;
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(endpoint);
  if (!m) throw new Error(`bind endpoint "${endpoint}" is not ipc://<path> or tcp://<host>:<port>`);
  if (!LOOPBACK.test(m[1]!)) {
    throw new Error(
      `bind endpoint "${endpoint}" is not a loopback address: serving other hosts requires CURVE keys, which this ` +
        `build does not support yet; bind tcp://127.0.0.1:<port> and tunnel (e.g. ssh -L) instead`,
    );
  }
}

/**
 * The events endpoint beside a control endpoint: for tcp, the same host and the next port (so one firewall rule or
 * ssh tunnel pair covers both; a wildcard control port gets a wildcard events port); for ipc, a sibling socket.
 */
export function companionEventsEndpoint(control: string): string {
  if (control.startsWith("ipc://")) return `${control.replace(/\.sock$/, "")}-events.sock`;
  const m = /^tcp:\/\/(.+):(\d+|\*)$/.exec(control);
  if (!m) throw new Error(`endpoint "${control}" is not ipc://<path> or tcp://<host>:<port>`);
  if (m[2] === "*") return `tcp://${m[1]}:*`;
  const port = Number(m[2]) + 1;
  if (port > 65535) throw new Error(`control endpoint "${control}" leaves no port for events (uses the next one); choose a port below 65535`);
  return `tcp://${m[1]}:${port}`;
}

/**
 * The trainer reports the events endpoint it bound; when that is a tcp wildcard address, a client reaches it on the
 * host it used for the control endpoint.
 */
export function reachableEventsEndpoint(control: string, events: string): string {
  const c = /^tcp:\/\/(.+):\d+$/.exec(control);
  const e = /^tcp:\/\/(.+):(\d+)$/.exec(events);
  if (!c || !e || !["0.0.0.0", "[::]", "*"].includes(e[1]!)) return events;
  return `tcp://${c[1]}:${e[2]}`;
}
