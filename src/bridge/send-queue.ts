/**
 * Serialises sends on one zeromq.js socket: a socket allows a single pending `send()` (a second one fails with
 * EBUSY). Frames wait in a bounded queue; when it is full, `shed` picks which queued frame to drop (images first),
 * so a slow peer never makes the producer wait.
 */
export interface Sendable {
  send(frames: Array<Uint8Array | string>): Promise<void>;
}

export class SendQueue<F extends Array<Uint8Array | string>> {
  private readonly queue: F[] = [];
  private pumping = false;
  private idleWaiters: Array<() => void> = [];
  dropped = 0;
  failed = 0;

  constructor(
    private readonly socket: Sendable,
    private readonly limit: number,
    /** Index of the queued frame to drop when full; the oldest by default. */
    private readonly shed: (queue: readonly F[]) => number = () => 0,
  ) {}

  enqueue(frames: F): void {
    if (this.queue.length >= this.limit) {
      this.queue.splice(this.shed(this.queue), 1);
      this.dropped++;
    }
    this.queue.push(frames);
    if (!this.pumping) void this.pump();
  }

  /** Resolves once every queued frame has been handed to the socket. */
  drained(): Promise<void> {
    if (!this.pumping && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    for (let frames = this.queue.shift(); frames; frames = this.queue.shift()) {
      try {
        await this.socket.send(frames);
      } catch {
        // The peer is gone or the socket closed: the frame is lost, training goes on.
        this.failed++;
      }
    }
    this.pumping = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
