/** A hand-made run directory (config.json, events.jsonl, PNGs) in a temp folder, for the report's tests. */
import { create, toJsonString } from "@bufbuild/protobuf";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventSchema,
  ImageBatchSchema,
  ImageSchema,
  MetricsSchema,
  RunState,
  StatusSchema,
  type Event,
} from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { encodePng } from "../../src/io/png.js";

export interface FakeRunOptions {
  /** Loss per step (step = index + 1); reward mean is -loss, std 0.1. */
  losses: number[];
  /** Steps whose images (one per prompt) are logged; their PNGs are written unless listed in `missingFiles`. */
  imageSteps: number[];
  missingFiles?: string[];
  prompts?: string[];
  /** Appended to events.jsonl without a newline, as a crash mid-write leaves it. */
  tornTail?: string;
}

const made: string[] = [];

/** A fresh temp folder, removed by `removeFakeRuns`. */
export function tempFolder(): string {
  made.push(mkdtempSync(join(tmpdir(), "alignprop-report-")));
  return made[made.length - 1]!;
}

export function removeFakeRuns(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function fakeRun(o: FakeRunOptions): string {
  const dir = join(tempFolder(), "run-1");
  mkdirSync(dir);
  writeFileSync(join(dir, "config.json"), JSON.stringify({ run_name: "run-1", model: "tiny", train_batch_size: 2, reward: "" }));
  let seq = 0;
  const event = (payload: Event["payload"]) =>
    toJsonString(EventSchema, create(EventSchema, { runId: "run-1", seq: ++seq, timeUnixMs: 1_700_000_000_000 + seq * 1000, payload }));
  const total = o.losses.length;
  const lines = [event({ case: "status", value: create(StatusSchema, { state: RunState.RUNNING, total, backend: "cpu", message: "training" }) })];
  const prompts = o.prompts ?? ["a red circle", "a blue square"];
  o.losses.forEach((loss, i) => {
    const step = i + 1;
    lines.push(event({ case: "metrics", value: create(MetricsSchema, { step, loss, rewardMean: -loss, rewardStd: 0.1 }) }));
    if (!o.imageSteps.includes(step)) return;
    const images = prompts.map((prompt, k) => {
      const path = `images/step-${step}/${k}.png`;
      if (!o.missingFiles?.includes(path)) {
        mkdirSync(join(dir, `images/step-${step}`), { recursive: true });
        writeFileSync(join(dir, path), encodePng({ width: 4, height: 4, rgb: new Uint8Array(4 * 4 * 3).fill(40 * k + step) }));
      }
      return create(ImageSchema, { prompt, reward: -loss + k / 1000, width: 4, height: 4, path });
    });
    lines.push(event({ case: "images", value: create(ImageBatchSchema, { step, images }) }));
  });
  lines.push(event({ case: "status", value: create(StatusSchema, { state: RunState.DONE, step: total, total, backend: "cpu", message: `finished at step ${total}/${total}` }) }));
  writeFileSync(join(dir, "events.jsonl"), lines.map((l) => l + "\n").join("") + (o.tornTail ?? ""));
  return dir;
}
