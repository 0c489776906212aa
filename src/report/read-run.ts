/**
 * Reads what a run directory holds into a plain `RunReport`: config.json, the events in events.jsonl (a torn last
 * line, as a crash leaves it, is skipped and noted) and each logged image's PNG as a data URI (a missing or
 * unreadable file is noted and left without one).
 */
import { fromJsonString } from "@bufbuild/protobuf";
import { readFile, stat } from "node:fs/promises";
import { basename, join, resolve, sep } from "node:path";
import { EventSchema, RunState, type Event } from "../gen/alignprop/v1/alignprop_pb.js";

export interface MetricRow {
  step: number;
  loss: number;
  rewardMean: number;
  rewardStd: number;
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

export interface RunReport {
  name: string;
  config: Record<string, unknown>;
  /** The last status event: state name (DONE, FAILED, …), message, step/total, backend. */
  status?: { state: string; message: string; step: number; total: number; backend: string };
  /** One row per step, in step order (a step logged twice keeps its last row). */
  metrics: MetricRow[];
  imageSteps: ImageStep[];
  /** Messages of the run's error events. */
  errors: string[];
  /** First and last event time, Unix ms. */
  startMs?: number;
  endMs?: number;
  /** What the report could not show and why (torn log lines, missing images). */
  notes: string[];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Throws, naming the path, when `runDir` is not a run directory (a folder with config.json and events.jsonl). */
export async function readRun(runDir: string): Promise<RunReport> {
  const info = await stat(runDir).catch(() => undefined);
  if (!info) throw new Error(`${runDir} does not exist`);
  if (!info.isDirectory()) throw new Error(`${runDir} is not a run directory (it is a file)`);
  for (const file of ["config.json", "events.jsonl"]) {
    if (!(await stat(join(runDir, file)).catch(() => undefined))) {
      throw new Error(`${runDir} is not a run directory: it has no ${file} (runs/<name>/ holds config.json and events.jsonl)`);
    }
  }
  const configPath = join(runDir, "config.json");
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${configPath} is not valid JSON: ${(err as Error).message}`);
  }
  const notes: string[] = [];
  const events = parseEvents(await readFile(join(runDir, "events.jsonl"), "utf8"), notes);
  const report: RunReport = {
    name: typeof config.run_name === "string" && config.run_name ? config.run_name : basename(resolve(runDir)),
    config,
    metrics: [],
    imageSteps: [],
    errors: [],
    startMs: events[0]?.timeUnixMs,
    endMs: events[events.length - 1]?.timeUnixMs,
    notes,
  };
  const metrics = new Map<number, MetricRow>();
  const imageSteps = new Map<number, ImageStep>();
  for (const { payload } of events) {
    if (payload.case === "metrics") {
      const { step, loss, rewardMean, rewardStd } = payload.value;
      metrics.set(step, { step, loss, rewardMean, rewardStd });
    } else if (payload.case === "images") {
      const images = payload.value.images.map((i) => ({ prompt: i.prompt, reward: i.reward, path: i.path, width: i.width, height: i.height }));
      imageSteps.set(payload.value.step, { step: payload.value.step, images });
    } else if (payload.case === "status") {
      const { state, message, step, total, backend } = payload.value;
      report.status = { state: RunState[state] ?? String(state), message, step, total, backend };
    } else if (payload.case === "error") {
      report.errors.push(payload.value.message);
    }
  }
  report.metrics = [...metrics.values()].sort((a, b) => a.step - b.step);
  report.imageSteps = [...imageSteps.values()].sort((a, b) => a.step - b.step);
  const all = report.imageSteps.flatMap((s) => s.images);
  await Promise.all(all.map((image) => embed(runDir, image)));
  const missing = all.filter((i) => i.missing);
  if (missing.length) notes.push(`${missing.length} of ${all.length} images could not be shown (placeholders below): ${missing[0]!.path}: ${missing[0]!.missing}${missing.length > 1 ? ", …" : ""}`);
  return report;
}

/** Whole events in file order; a line that is not one (torn by a crash mid-write) is skipped with a note. */
function parseEvents(text: string, notes: string[]): Event[] {
  const events: Event[] = [];
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(fromJsonString(EventSchema, line, { ignoreUnknownFields: true }));
    } catch {
      notes.push(`events.jsonl line ${i + 1} is not a whole event (a write cut short?) and was skipped`);
    }
  });
  return events;
}

async function embed(runDir: string, image: ReportImage): Promise<void> {
  const root = resolve(runDir);
  const file = resolve(root, image.path);
  if (!image.path || !file.startsWith(root + sep)) {
    image.missing = "not a path inside the run directory";
    return;
  }
  const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => err.code ?? "unreadable");
  if (typeof bytes === "string") image.missing = bytes === "ENOENT" ? "file not found" : `cannot read it (${bytes})`;
  else if (!PNG_SIGNATURE.every((b, i) => bytes[i] === b)) image.missing = "not a PNG file";
  else image.src = `data:image/png;base64,${bytes.toString("base64")}`;
}
