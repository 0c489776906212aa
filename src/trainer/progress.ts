/**
 * Start-up progress as `Progress` events: a loader reports its counts as often as it likes; this adds the rate since
 * the phase began and lets through at most one event per `intervalMs` per phase (always the one that completes it),
 * so a download of many small chunks cannot flood the event stream.
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
  private readonly phases = new Map<ProgressPhase, { start: number; last: number }>();

  constructor(
    private readonly publish: (progress: Progress) => void,
    private readonly intervalMs = 200,
    private readonly now: () => number = () => performance.now(),
  ) {}

  readonly report: ProgressListener = (u) => {
    const t = this.now();
    let phase = this.phases.get(u.phase);
    if (!phase) this.phases.set(u.phase, (phase = { start: t, last: -Infinity }));
    const complete = u.itemsTotal > 0 && u.itemsDone >= u.itemsTotal;
    if (!complete && t - phase.last < this.intervalMs) return;
    phase.last = t;
    const seconds = (t - phase.start) / 1000;
    this.publish(create(ProgressSchema, { ...u, rate: seconds > 0 ? u.done / seconds : 0 }));
  };
}
