/**
 * The run directory's files: `config.json`, `events.jsonl` (one line per non-image event, appended whole),
 * `images/step-<N>/<i>.png` + `captions.json`.
 */
import { toJsonString } from "@bufbuild/protobuf";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
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

  constructor(readonly path: string) {
    mkdirSync(path, { recursive: true });
    this.eventsFd = openSync(join(path, "events.jsonl"), "a");
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
