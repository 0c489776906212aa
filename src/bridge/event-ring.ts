/**
 * The trainer's memory of recent events, served to late clients as a snapshot. Bounded in count (the latest status
 * event is always kept); image batches (of `images` and `eval` events)
 * older than the newest `keepImageBatches` keep their prompts and rewards but lose their PNG bytes.
 */
import { clone } from "@bufbuild/protobuf";
import { EventSchema, type Event } from "../gen/alignprop/v1/alignprop_pb.js";

export class EventRing {
  private readonly events: Event[] = [];
  private imageSeqs: number[] = [];
  private latestStatusSeq = 0;

  constructor(
    private readonly capacity: number,
    private readonly keepImageBatches: number,
  ) {}

  add(event: Event): void {
    this.events.push(event);
    if (event.payload.case === "status") this.latestStatusSeq = event.seq;
    // The latest status stays however old it is: a late client must learn the run's state.
    if (this.events.length > this.capacity) this.events.splice(this.events[0]!.seq === this.latestStatusSeq ? 1 : 0, 1);
    if (event.payload.case === "images" || event.payload.case === "eval") {
      this.imageSeqs.push(event.seq);
      while (this.imageSeqs.length > this.keepImageBatches) this.dropPixels(this.imageSeqs.shift()!);
    }
  }

  /** Held events with seq > afterSeq, in order. */
  after(afterSeq: number): Event[] {
    return this.events.filter((e) => e.seq > afterSeq);
  }

  get firstSeq(): number {
    return this.events[0]?.seq ?? 0;
  }

  private dropPixels(seq: number): void {
    const i = this.events.findIndex((e) => e.seq === seq);
    const event = this.events[i];
    if (!event) return;
    // Copy: the original may still be queued for sending with its pixels.
    const light = clone(EventSchema, event);
    const batch = light.payload.case === "images" ? light.payload.value : light.payload.case === "eval" ? light.payload.value.images : undefined;
    if (!batch) return;
    batch.pixelsDropped = true;
    for (const image of batch.images) image.png = new Uint8Array(0);
    this.events[i] = light;
  }
}
