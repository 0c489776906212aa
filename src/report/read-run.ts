/**
 * Reads what a run directory holds into a plain `RunReport`: config.json, the events in events.jsonl (src/run's
 * reader: a torn last line, as a crash leaves it, is skipped and noted) and each logged or eval image's PNG as a data URI (a
 * missing or unreadable file is noted and left without one).
 */
import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { RunState, type Image } from "../gen/alignprop/v1/alignprop_pb.js";
import { assertRunDir, readEventsLog, readRunImage, runFiles } from "../run/index.js";

export interface MetricRow {
  step: number;
  loss: number;
  rewardMean: number;
  rewardStd: number;
  /** Algorithm-specific values by name (Metrics.scalars; DDPO: approx_kl, clip_fraction). */
  scalars: Record<string, number>;
}

export interface ReportImage {
  prompt: string;
  reward: number;
  /** Relative to the run directory, as logged. */
  path: string;
  width: number;
  height: number;
  /** `data:image/png;base64,…`; undefined when the file could not be used (`missing` says why). */
  src?: string;
  missing?: string;
}

export interface ImageStep {
  step: number;
  images: ReportImage[];
}

/** One evaluation (an `eval` event): the monitors' values and the eval samples, the same seeds every time. */
export interface EvalStep {
  step: number;
  monitors: Record<string, number>;
  images: ReportImage[];
}

export interface RunReport {
  name: string;
  config: Record<string, unknown>;
  /** The last status event: state name (DONE, FAILED, …), message, step/total, backend. */
  status?: { state: string; message: string; step: number; total: number; backend: string };
  /** One row per step, in step order (a step logged twice keeps its last row). */
  metrics: MetricRow[];
  imageSteps: ImageStep[];
  /** The evaluations, in step order (a step evaluated twice keeps its last). */
  evals: EvalStep[];
  /** Messages of the run's error events. */
  errors: string[];
  /** First and last event time, Unix ms. */
  startMs?: number;
  endMs?: number;
  /** What the report could not show and why (torn log lines, missing images). */
  notes: string[];
}

/** Throws, naming the path, when `runDir` is not a run directory (a folder with config.json and events.jsonl). */
export async function readRun(runDir: string): Promise<RunReport> {
  await assertRunDir(runDir);
  const files = runFiles(runDir);
  const configPath = files.config;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${configPath} is not valid JSON: ${(err as Error).message}`);
  }
  const notes: string[] = [];
  const log = await readEventsLog(files.events);
  const events = log.events;
  if (log.torn !== undefined) notes.push(`events.jsonl line ${log.torn} is not a whole event (a write cut short by a crash?) and was skipped`);
  const report: RunReport = {
    name: typeof config.run_name === "string" && config.run_name ? config.run_name : basename(resolve(runDir)),
    config,
    metrics: [],
    imageSteps: [],
    evals: [],
    errors: [],
    startMs: events[0]?.timeUnixMs,
    endMs: events[events.length - 1]?.timeUnixMs,
    notes,
  };
  const metrics = new Map<number, MetricRow>();
  const imageSteps = new Map<number, ImageStep>();
  const evals = new Map<number, EvalStep>();
  const reportImages = (images: readonly Image[]): ReportImage[] =>
    images.map((i) => ({ prompt: i.prompt, reward: i.reward, path: i.path, width: i.width, height: i.height }));
  for (const { payload } of events) {
    if (payload.case === "metrics") {
      const { step, loss, rewardMean, rewardStd, scalars } = payload.value;
      metrics.set(step, { step, loss, rewardMean, rewardStd, scalars: { ...scalars } });
    } else if (payload.case === "images") {
      imageSteps.set(payload.value.step, { step: payload.value.step, images: reportImages(payload.value.images) });
    } else if (payload.case === "eval") {
      const { step, monitors, images } = payload.value;
      evals.set(step, { step, monitors: { ...monitors }, images: reportImages(images?.images ?? []) });
    } else if (payload.case === "status") {
      const { state, message, step, total, backend } = payload.value;
      report.status = { state: RunState[state] ?? String(state), message, step, total, backend };
    } else if (payload.case === "error") {
      report.errors.push(payload.value.message);
    }
  }
  report.metrics = [...metrics.values()].sort((a, b) => a.step - b.step);
  report.imageSteps = [...imageSteps.values()].sort((a, b) => a.step - b.step);
  report.evals = [...evals.values()].sort((a, b) => a.step - b.step);
  const all = [...report.imageSteps, ...report.evals].flatMap((s) => s.images);
  await Promise.all(all.map((image) => embed(runDir, image)));
  const missing = all.filter((i) => i.missing);
  if (missing.length) notes.push(`${missing.length} of ${all.length} images could not be shown (placeholders below): ${missing[0]!.path}: ${missing[0]!.missing}${missing.length > 1 ? ", …" : ""}`);
  return report;
}

async function embed(runDir: string, image: ReportImage): Promise<void> {
  const read = await readRunImage(runDir, image.path);
  if (read.ok) image.src = `data:image/png;base64,${read.bytes.toString("base64")}`;
  else image.missing = read.reason;
}
