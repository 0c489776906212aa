/** An open run directory as the trainer writes it: events appended to events.jsonl, logged images saved as PNGs. */
import { mkdirSync } from "node:fs";
import type { StepImages } from "../algorithms/job.js";
import type { Event } from "../gen/alignprop/v1/alignprop_pb.js";
import { EventsWriter } from "./events-log.js";
import { saveEvalImages, saveStepImages, type SavedImage } from "./images.js";
import { runFiles } from "./layout.js";

export class RunDir {
  private readonly events: EventsWriter;

  /** Opens `path` for appending; when resuming, `keepThroughSeq` trims the log to the checkpoint (EventsWriter). */
  constructor(readonly path: string, keepThroughSeq?: number) {
    mkdirSync(path, { recursive: true });
    this.events = new EventsWriter(runFiles(path).events, keepThroughSeq);
  }

  /** Appends one event as a JSON line (image events without their pixels). */
  appendEvent(event: Event): void {
    this.events.append(event);
  }

  saveImages(step: number, batch: StepImages): Promise<SavedImage[]> {
    return saveStepImages(this.path, step, batch);
  }

  saveEvalImages(step: number, batch: StepImages, seeds: readonly number[]): Promise<SavedImage[]> {
    return saveEvalImages(this.path, step, batch, seeds);
  }

  close(): void {
    this.events.close();
  }
}
