/**
 * A TensorBoard event-file writer: `events.out.tfevents.<secs>.<host>.<pid>.<n>` in a directory, one TFRecord per
 * Event (src/gen/alignprop/tensorboard/v1 carries TensorFlow's field numbers). Scalars are written as
 * `simple_value`, images as PNG `Summary.Image`, text through the text plugin's string tensor. A writer that
 * re-does steps from a checkpoint opens with `restartAtStep`, which writes a SessionLog START at that step: readers
 * (TensorBoard's EventAccumulator) then drop what an earlier file logged from that step on, so no step appears twice.
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  DataType,
  EventSchema,
  SessionLog_SessionStatus,
  SummarySchema,
  type Summary_Value,
  Summary_ValueSchema,
} from "../../gen/alignprop/tensorboard/v1/event_pb.js";
import { RecordFile } from "./record-file.js";

export const FILE_VERSION = "brain.Event:2";
/** Summary.Image colorspace of an RGB PNG. */
const RGB = 3;

export interface TensorBoardImage {
  tag: string;
  png: Uint8Array;
  width: number;
  height: number;
}

export interface TensorBoardWriterOptions {
  /** A resumed run re-does the steps from here: earlier files' events at these steps are superseded. */
  restartAtStep?: number;
  /** Seconds since the epoch (tests pin it). */
  now?: () => number;
}

let opened = 0;

export class TensorBoardWriter {
  private constructor(
    private readonly file: RecordFile,
    private readonly now: () => number,
  ) {}

  get path(): string {
    return this.file.path;
  }

  static open(dir: string, options: TensorBoardWriterOptions = {}): TensorBoardWriter {
    const now = options.now ?? (() => Date.now() / 1000);
    mkdirSync(dir, { recursive: true });
    const name = `events.out.tfevents.${Math.floor(now())}.${hostname()}.${process.pid}.${++opened}`;
    const writer = new TensorBoardWriter(new RecordFile(join(dir, name)), now);
    writer.write({ what: { case: "fileVersion", value: FILE_VERSION } });
    if (options.restartAtStep !== undefined) {
      writer.write({
        step: BigInt(options.restartAtStep),
        what: { case: "sessionLog", value: { status: SessionLog_SessionStatus.START, msg: "resumed from a checkpoint" } },
      });
    }
    writer.file.flush();
    return writer;
  }

  scalars(step: number, values: Readonly<Record<string, number>>): void {
    this.summary(step, Object.entries(values).map(([tag, v]) => create(Summary_ValueSchema, { tag, value: { case: "simpleValue", value: v } })));
  }

  images(step: number, images: readonly TensorBoardImage[]): void {
    this.summary(
      step,
      images.map((im) =>
        create(Summary_ValueSchema, {
          tag: im.tag,
          value: { case: "image", value: { height: im.height, width: im.width, colorspace: RGB, encodedImageString: im.png } },
        }),
      ),
    );
  }

  /** Markdown shown by TensorBoard's text dashboard. */
  text(step: number, tag: string, markdown: string): void {
    this.summary(step, [
      create(Summary_ValueSchema, {
        tag,
        metadata: { pluginData: { pluginName: "text" } },
        value: { case: "tensor", value: { dtype: DataType.STRING, tensorShape: {}, stringVal: [new TextEncoder().encode(markdown)] } },
      }),
    ]);
  }

  /** Forces what was written to the disk (every record already reaches the OS when written). */
  flush(): void {
    this.file.flush();
  }

  close(): void {
    this.file.close();
  }

  private summary(step: number, value: Summary_Value[]): void {
    if (value.length === 0) return;
    this.write({ step: BigInt(step), what: { case: "summary", value: create(SummarySchema, { value }) } });
  }

  private write(init: MessageInitShape<typeof EventSchema>): void {
    this.file.append(toBinary(EventSchema, create(EventSchema, { wallTime: this.now(), ...init })));
  }
}
