/**
 * A loopback TCP proxy that can cut the network: `drop()` resets every connection, `freeze()` stops all traffic
 * (connections stay open, as in a partition) until `thaw()`.
 *
 * Freezing unpipes each pair of sockets rather than only pausing them: a stream's `pipe()` resumes a paused source
 * (when piping starts, and again on the destination's 'drain'), so a connection accepted during a partition, or one
 * with writes pending, would otherwise carry traffic through it.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly pairs = new Set<[Socket, Socket]>();
  private frozen = false;

  private constructor(private readonly servers: Server[]) {}

  /** Listens on `host`:port for each port, forwarding to `target`:same port. */
  static async start(host: string, ports: number[], target: string): Promise<TcpProxy> {
    const servers: Server[] = [];
    const proxy = new TcpProxy(servers);
    for (const port of ports) {
      const server = createServer((downstream) => proxy.pipe(downstream, connect(port, target)));
      await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, host, resolve));
      servers.push(server);
    }
    return proxy;
  }

  drop(): void {
    for (const s of this.sockets) s.resetAndDestroy();
    this.sockets.clear();
    this.pairs.clear();
  }

  freeze(): void {
    this.frozen = true;
    for (const [a, b] of this.pairs) {
      a.unpipe(b);
      b.unpipe(a);
      a.pause();
      b.pause();
    }
  }

  thaw(): void {
    if (!this.frozen) return; // the pairs are piped already: piping them again would send every byte twice
    this.frozen = false;
    for (const pair of this.pairs) this.connectPair(pair);
  }

  async close(): Promise<void> {
    this.drop();
    await Promise.all(this.servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }

  private pipe(a: Socket, b: Socket): void {
    for (const s of [a, b]) {
      this.sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", (hadError) => {
        this.sockets.delete(s);
        // A clean close half-closes the other side after what is buffered has been written (as TCP would: the last
        // frames a trainer sends before it exits arrive); an error resets it.
        const other = s === a ? b : a;
        if (hadError) other.destroy();
        else other.end();
      });
    }
    const pair: [Socket, Socket] = [a, b];
    this.pairs.add(pair);
    for (const s of pair) s.once("close", () => this.pairs.delete(pair));
    if (!this.frozen) this.connectPair(pair);
  }

  /** Pipes a pair both ways (piping resumes both sockets). */
  private connectPair([a, b]: [Socket, Socket]): void {
    a.pipe(b);
    b.pipe(a);
  }
}
