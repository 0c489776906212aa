/**
 * Drains a RunController's event stream into a list and lets a test wait for the event it needs. The timeout only
 * turns a hang into a failure; tests synchronise on events, never on elapsed time.
 */
import { readFileSync } from "node:fs";
import type { RunController } from "../../src/bridge/run-controller.js";
import { RunState, type Event } from "../../src/gen/alignprop/v1/alignprop_pb.js";

type Waiter = { match: (e: Event) => boolean; resolve: (e: Event) => void };

export class EventTap {
  readonly events: Event[] = [];
  readonly ended: Promise<void>;
  private waiters: Waiter[] = [];

  constructor(controller: RunController) {
    this.ended = (async () => {
      for await (const event of controller.events()) {
        this.events.push(event);
        this.waiters = this.waiters.filter((w) => (w.match(event) ? (w.resolve(event), false) : true));
      }
    })();
  }

  /** The first event (already seen or coming) that matches. */
  until(match: (e: Event) => boolean, what: string, timeoutMs = 60_000): Promise<Event> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last events: ${this.recent()}`)), timeoutMs);
      this.waiters.push({ match, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void this.ended.then(() => reject(new Error(`stream ended while waiting for ${what}`)));
    });
  }

  untilState(state: RunState, timeoutMs?: number): Promise<Event> {
    return this.until((e) => e.payload.case === "status" && e.payload.value.state === state, `state ${RunState[state]}`, timeoutMs);
  }

  untilStep(step: number, timeoutMs?: number): Promise<Event> {
    return this.until((e) => e.payload.case === "metrics" && e.payload.value.step >= step, `step ${step}`, timeoutMs);
  }

  /** The last few events in one line, so a timeout says where the stream stopped. */
  private recent(n = 8): string {
    return this.events
      .slice(-n)
      .map((e) => `${e.seq}:${e.payload.case}${e.payload.case === "log" ? `(${e.payload.value.message})` : e.payload.case === "metrics" ? `(step ${e.payload.value.step})` : e.payload.case === "status" ? `(${RunState[e.payload.value.state]})` : ""}`)
      .join(" | ");
  }

  metricsSteps(): number[] {
    return this.events.flatMap((e) => (e.payload.case === "metrics" ? [e.payload.value.step] : []));
  }

  seqs(): number[] {
    return this.events.map((e) => e.seq);
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 1/100 s on Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
