/**
 * Endpoint rules. A trainer binds three sockets: `control` (commands), `events` (PUB) and `observe` (read-only
 * commands for observers). Local runs use ipc:// sockets in a private 0700 temp dir. tcp binds loopback unless the
 * trainer has CURVE keys: serving other hosts without authentication is refused, not exposed.
 */
import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Endpoints {
  control: string;
  events: string;
  observe: string;
}

const TCP = /^tcp:\/\/(.+):(\d+|\*)$/;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\]|::1)$/;

/** A fresh private directory (mode 0700) holding the three ipc sockets of one local run. */
export async function privateIpcEndpoints(): Promise<Endpoints & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "alignprop-"));
  await chmod(dir, 0o700);
  const control = `ipc://${join(dir, "control.sock")}`;
  return { dir, control, ...companionEndpoints(control) };
}

/** Throws unless `endpoint` is ipc://, tcp:// on loopback, or tcp:// anywhere with CURVE authentication on. */
export function assertSafeBind(endpoint: string, curve = false): void {
  if (endpoint.startsWith("ipc://")) return;
  const m = TCP.exec(endpoint);
  if (!m) throw new Error(`bind endpoint "${endpoint}" is not ipc://<path> or tcp://<host>:<port>`);
  if (!curve && !LOOPBACK.test(m[1]!)) {
    throw new Error(
      `bind endpoint "${endpoint}" is not a loopback address: serving other hosts needs CURVE authentication; ` +
        `create keys with \`alignprop keygen <dir>\` and pass --server-key <dir> --allow <client public key file|dir> ` +
        `(or bind tcp://127.0.0.1:<port> and tunnel with ssh -L)`,
    );
  }
}

/**
 * The events and observe endpoints beside a control endpoint: for tcp, the same host and the next two ports (one
 * firewall rule or ssh tunnel set covers all three; a wildcard control port gets wildcard ports); for ipc, sibling
 * sockets `<name>-events.sock` and `<name>-observe.sock`.
 */
export function companionEndpoints(control: string): { events: string; observe: string } {
  if (control.startsWith("ipc://")) {
    const base = control.replace(/\.sock$/, "");
    return { events: `${base}-events.sock`, observe: `${base}-observe.sock` };
  }
  const m = TCP.exec(control);
  if (!m) throw new Error(`endpoint "${control}" is not ipc://<path> or tcp://<host>:<port>`);
  if (m[2] === "*") return { events: `tcp://${m[1]}:*`, observe: `tcp://${m[1]}:*` };
  const port = Number(m[2]);
  if (port + 2 > 65535) {
    throw new Error(`control endpoint "${control}" leaves no ports for events and observers (the next two); choose a port below 65534`);
  }
  return { events: `tcp://${m[1]}:${port + 1}`, observe: `tcp://${m[1]}:${port + 2}` };
}

/**
 * The trainer reports the endpoints it bound, as it sees them; over tcp a client reaches them on the host it used to
 * connect (a wildcard bind, an ssh tunnel or a NAT all make the trainer's own view of its address useless to a client).
 */
export function reachableEndpoint(connectedTo: string, reported: string): string {
  const c = /^tcp:\/\/(.+):\d+$/.exec(connectedTo);
  const e = /^tcp:\/\/(.+):(\d+)$/.exec(reported);
  if (!c || !e) return reported;
  return `tcp://${c[1]}:${e[2]}`;
}
