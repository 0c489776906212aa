/** Logged images as wire `Image`s: the saved PNG and its path, with the batch's prompt, metadata and reward. */
import { create } from "@bufbuild/protobuf";
import { ImageSchema, type Image } from "../gen/alignprop/v1/alignprop_pb.js";
import type { StepImages } from "../algorithms/job.js";
import type { SavedImage } from "../run/index.js";

export function imageMessages(saved: readonly SavedImage[], batch: StepImages): Image[] {
  return saved.map((s, i) =>
    create(ImageSchema, {
      png: s.png,
      path: s.path,
      prompt: batch.prompts[i],
      promptMetadataJson: JSON.stringify(batch.promptMetadata[i] ?? {}),
      reward: batch.rewards[i],
      width: batch.images[i]!.width,
      height: batch.images[i]!.height,
    }),
  );
}
