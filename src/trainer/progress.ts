/**
 * Start-up progress as `Progress` events: a loader reports its counts as often as it likes; this adds the rate since
 * the phase began and lets through at most one event per `intervalMs` per phase (always the one that completes it,
 * and the latest one once the interval has passed), so a download of many small chunks cannot flood the stream.
 */
import { create } from "@bufbuild/protobuf";
import { ProgressSchema, type Progress } from "../gen/alignprop/v1/alignprop_pb.js";

export type ProgressPhase = "download" | "load";

/** One report from a loader: `Progress` without the rate. */
export interface ProgressUpdate {
  phase: ProgressPhase;
  item: string;
  done: number;
  total: number;
  unit: "bytes" | "components";
  itemsDone: number;
  itemsTotal: number;
}

export type ProgressListener = (update: ProgressUpdate) => void;

export class ProgressThrottle {
  private readonly phases = new Map<ProgressPhase, { start: number; last: number; pending?: ProgressUpdate; timer?: NodeJS.Timeout }>();

  constructor(
    private readonly publish: (progress: Progress) => void,
    private readonly intervalMs = 200,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Publishes now, or (held back) once the interval has passed, so a stalled download still shows its last bytes. */
  readonly report: ProgressListener = (u) => {
    const t = this.now();
    let phase = this.phases.get(u.phase);
    if (!phase) this.phases.set(u.phase, (phase = { start: t, last: -Infinity }));
    const complete = u.itemsTotal > 0 && u.itemsDone >= u.itemsTotal;
    const wait = phase.last + this.intervalMs - t;
    if (complete || wait <= 0) return this.send(u);
    phase.pending = u;
    phase.timer ??= setTimeout(() => phase.pending && this.send(phase.pending), wait).unref();
  };

  private send(u: ProgressUpdate): void {
    const phase = this.phases.get(u.phase)!;
    clearTimeout(phase.timer);
    phase.timer = undefined;
    phase.pending = undefined;
    phase.last = this.now();
    const seconds = (phase.last - phase.start) / 1000;
    this.publish(create(ProgressSchema, { ...u, rate: seconds > 0 ? u.done / seconds : 0 }));
  }
}
