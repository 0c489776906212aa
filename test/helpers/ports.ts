/** Three consecutive free loopback tcp ports (control, events, observe), found by binding them briefly. */
import { createServer } from "node:net";

const listen = (port: number) =>
  new Promise<ReturnType<typeof createServer> | undefined>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

export async function freePortTriple(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await listen(0);
    const base = (first!.address() as { port: number }).port;
    const rest = base + 2 <= 65535 ? await Promise.all([listen(base + 1), listen(base + 2)]) : [undefined];
    await Promise.all([first, ...rest].map((s) => new Promise((r) => (s ? s.close(r) : r(undefined)))));
    if (rest.length === 2 && rest.every(Boolean)) return base;
  }
  throw new Error("no three consecutive free loopback ports found");
}
