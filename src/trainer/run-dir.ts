/**
 * The run directory's files: `config.json`, `events.jsonl` (one line per non-image event, appended whole),
 * `images/step-<N>/<i>.png` + `captions.json`.
 */
import { toJsonString } from "@bufbuild/protobuf";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { EventSchema, type Event } from "../gen/alignprop/v1/alignprop_pb.js";
import { encodePng } from "../io/png.js";
import type { StepImages } from "./job.js";

export interface SavedImage {
  png: Uint8Array;
  /** Relative to the run directory. */
  path: string;
}

export class RunDir {
  private readonly eventsFd: number;

  /**
   * Opens the run directory for appending. When resuming, `keepThroughSeq` drops what came after the checkpoint
   * (those steps run again) and any torn last line a crash left, so the log has each event once.
   */
  constructor(readonly path: string, keepThroughSeq?: number) {
    mkdirSync(path, { recursive: true });
    const events = join(path, "events.jsonl");
    if (keepThroughSeq !== undefined && existsSync(events)) {
      const kept = readFileSync(events, "utf8")
        .split("\n")
        .filter((line) => parsedSeq(line) <= keepThroughSeq);
      writeFileSync(`${events}.tmp`, kept.map((l) => l + "\n").join(""));
      renameSync(`${events}.tmp`, events);
    }
    this.eventsFd = openSync(events, "a");
  }

  /** Appends one event as a JSON line; image batches are on disk as PNGs, so they are logged without pixels. */
  appendEvent(event: Event): void {
    const line = toJsonString(EventSchema, event);
    writeSync(this.eventsFd, line + "\n");
  }

  async saveImages(step: number, batch: StepImages): Promise<SavedImage[]> {
    const rel = join("images", `step-${step}`);
    await mkdir(join(this.path, rel), { recursive: true });
    const saved = await Promise.all(
      batch.images.map(async (image, i) => {
        const png = encodePng(image);
        const path = join(rel, `${i}.png`);
        await writeFile(join(this.path, path), png);
        return { png, path };
      }),
    );
    const captions = batch.prompts.map((prompt, i) => ({
      file: `${i}.png`,
      prompt,
      prompt_metadata: batch.promptMetadata[i],
      reward: batch.rewards[i],
    }));
    await writeFile(join(this.path, rel, "captions.json"), JSON.stringify(captions, null, 2) + "\n");
    return saved;
  }

  close(): void {
    closeSync(this.eventsFd);
  }
}

/** The seq of one events.jsonl line; Infinity for a line that is not a whole event (torn by a crash). */
function parsedSeq(line: string): number {
  try {
    const seq = (JSON.parse(line) as { seq?: unknown }).seq;
    return typeof seq === "number" ? seq : Infinity;
  } catch {
    return Infinity;
  }
}
