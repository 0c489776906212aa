/**
 * The dashboard's model of a run: a pure reducer folding trainer events into what the screen shows, plus the few
 * values derived from it (ETA, throughput). Histories are bounded so a long run cannot grow memory without limit.
 */
import {
  LogLevel,
  RunState,
  type Error as RunError,
  type EvalResult,
  type Event,
  type ImageBatch,
  type Metrics,
  type Progress,
} from "../src/gen/alignprop/v1/alignprop_pb.js";
import { describeError, formatNumber, stateName } from "./format.js";

/** Metric points kept for the charts. */
export const MAX_METRIC_POINTS = 1000;
/** Log lines kept for the log pane. */
export const MAX_LOG_LINES = 200;
/** Recent steps averaged for the ETA. */
export const ETA_WINDOW = 10;

export interface MetricPoint {
  step: number;
  loss: number;
  rewardMean: number;
  rewardStd: number;
  rewardMin: number;
  rewardMax: number;
  samplesPerSecond: number;
  stepSeconds: number;
  /** Algorithm-specific values by name (DDPO: approx_kl, clip_fraction). */
  scalars: Readonly<Record<string, number>>;
}

/** One evaluation's monitor values (EvalResult.monitors). */
export interface EvalPoint {
  step: number;
  monitors: Readonly<Record<string, number>>;
}

export interface LogLine {
  level: LogLevel;
  text: string;
}

/** Why the run ended badly, as the trainer (or the process supervisor) reported it. */
export interface FinalError {
  message: string;
  source: string;
  exitCode: number;
  signal: string;
  stderrTail: string;
}

export interface RunView {
  runId: string;
  state: RunState;
  step: number;
  total: number;
  epoch: number;
  backend: string;
  /** Processes training the run together (Status.world_size); 0 until a trainer says. */
  worldSize: number;
  message: string;
  runDir: string;
  metrics: readonly MetricPoint[];
  images: ImageBatch | undefined;
  /** Every evaluation's monitors, by step; the latest evaluation with its samples (the same seeds each time). */
  evals: readonly EvalPoint[];
  latestEval: EvalResult | undefined;
  logs: readonly LogLine[];
  error: FinalError | undefined;
  /** The latest start-up progress (download, load); shown while the run is STARTING. */
  progress: Progress | undefined;
}

export const initialRunView: RunView = {
  runId: "",
  state: RunState.UNSPECIFIED,
  step: 0,
  total: 0,
  epoch: 0,
  backend: "",
  worldSize: 0,
  message: "",
  runDir: "",
  metrics: [],
  images: undefined,
  evals: [],
  latestEval: undefined,
  logs: [],
  error: undefined,
  progress: undefined,
};

/** Folds one event into the view; never mutates `view`. */
export function reduceRunView(view: RunView, event: Event): RunView {
  const next = event.runId && event.runId !== view.runId ? { ...view, runId: event.runId } : view;
  const { payload } = event;
  switch (payload.case) {
    case "status": {
      const s = payload.value;
      const changed = s.state !== view.state;
      const updated: RunView = {
        ...next,
        state: s.state,
        step: s.step,
        total: s.total,
        epoch: s.epoch,
        backend: s.backend || next.backend,
        worldSize: s.worldSize || next.worldSize,
        message: s.message,
        runDir: s.runDir || next.runDir,
      };
      const note = s.message ? `: ${s.message}` : "";
      return changed ? appendLog(updated, LogLevel.INFO, `state ${stateName(s.state)}${note}`) : updated;
    }
    case "metrics":
      return {
        ...next,
        step: payload.value.step,
        epoch: payload.value.epoch,
        // A trainer that restarted from a checkpoint runs some steps again: its new points replace the old ones.
        metrics: bounded([...next.metrics.filter((m) => m.step < payload.value.step), toPoint(payload.value)], MAX_METRIC_POINTS),
      };
    case "images":
      return { ...next, images: payload.value };
    case "eval": {
      const point = { step: payload.value.step, monitors: { ...payload.value.monitors } };
      // Like metrics: a restarted trainer's evaluations replace those of the steps it runs again.
      const evals = bounded([...next.evals.filter((e) => e.step < point.step), point], MAX_METRIC_POINTS);
      return { ...next, evals, latestEval: payload.value };
    }
    case "progress":
      return { ...next, progress: payload.value };
    case "log":
      return appendLog(next, payload.value.level, payload.value.message);
    case "error":
      return appendLog({ ...next, error: toFinalError(payload.value) }, LogLevel.ERROR, describeError(payload.value));
    case "checkpoint": {
      const c = payload.value;
      const reason = c.reason ? ` (${c.reason})` : "";
      return appendLog(next, LogLevel.INFO, `checkpoint saved at step ${c.step}: ${c.path}${reason}`);
    }
    case undefined:
      return next;
  }
}

/** Adds a log line (one entry per text line), keeping the newest MAX_LOG_LINES. */
export function appendLog(view: RunView, level: LogLevel, text: string): RunView {
  const lines = text.split("\n").map((line) => ({ level, text: line }));
  return { ...view, logs: bounded([...view.logs, ...lines], MAX_LOG_LINES) };
}

/** Seconds left: the mean of the last ETA_WINDOW step times times the steps remaining; undefined when unknown. */
export function etaSeconds(view: RunView): number | undefined {
  const remaining = view.total - view.step;
  if (view.total <= 0 || remaining < 0) return undefined;
  if (remaining === 0) return 0;
  const recent = view.metrics
    .slice(-ETA_WINDOW)
    .map((p) => p.stepSeconds)
    .filter((s) => Number.isFinite(s) && s > 0);
  if (recent.length === 0) return undefined;
  return (recent.reduce((a, b) => a + b, 0) / recent.length) * remaining;
}

/** The latest step's algorithm-specific values as "name value" pairs, by name; "" when there are none. */
export function formatScalars(scalars: Readonly<Record<string, number>> | undefined): string {
  return Object.entries(scalars ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name} ${formatNumber(value)}`)
    .join("  ");
}

/** Throughput of the latest step; undefined before the first metrics or when it is not a finite number. */
export function samplesPerSecond(view: RunView): number | undefined {
  const latest = view.metrics.at(-1)?.samplesPerSecond;
  return latest !== undefined && Number.isFinite(latest) ? latest : undefined;
}

function toPoint(m: Metrics): MetricPoint {
  return {
    step: m.step,
    loss: m.loss,
    rewardMean: m.rewardMean,
    rewardStd: m.rewardStd,
    rewardMin: m.rewardMin,
    rewardMax: m.rewardMax,
    samplesPerSecond: m.samplesPerSecond,
    stepSeconds: m.stepSeconds,
    scalars: { ...m.scalars },
  };
}

function toFinalError(e: RunError): FinalError {
  return { message: e.message, source: e.source, exitCode: e.exitCode, signal: e.signal, stderrTail: e.stderrTail };
}

function bounded<T>(items: T[], max: number): T[] {
  return items.length > max ? items.slice(items.length - max) : items;
}
