import "../helpers/at-a-terminal.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import { render } from "ink-testing-library";
import { ImageBatchSchema, type ImageBatch } from "../../src/gen/alignprop/v1/alignprop_pb.js";
import { ImagePane } from "../../ui/ImagePane.js";
import { pngOf } from "./events.js";

const TWO_BY_TWO = pngOf(2, 2, [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [10, 20, 30],
]);

function batch(count: number, fields: Partial<Pick<ImageBatch, "pixelsDropped">> = {}): ImageBatch {
  return create(ImageBatchSchema, {
    step: 12,
    pixelsDropped: fields.pixelsDropped ?? false,
    images: Array.from({ length: count }, (_, i) => ({
      png: fields.pixelsDropped ? new Uint8Array() : TWO_BY_TWO,
      prompt: `shape ${i}`,
      reward: 0.1 * i + 0.12345,
      path: `images/step-12/${i}.png`,
    })),
  });
}

test("the image pane draws a 2x2 PNG as truecolor half blocks with a prompt | reward caption", () => {
  const { lastFrame, unmount } = render(<ImagePane batch={batch(1)} width={30} height={6} offset={0} />);
  const lines = (lastFrame() ?? "").split("\n");
  assert.equal(lines[0]?.trimEnd(), "images · step 12");
  assert.ok(
    lines[1]?.startsWith("\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;255;0m\x1b[48;2;10;20;30m▀"),
    JSON.stringify(lines[1]),
  );
  assert.equal(lines[2]?.trimEnd(), "shape 0 | 0.123");
  unmount();
});

test("the image pane says so when there are no images yet", () => {
  const { lastFrame, unmount } = render(<ImagePane batch={undefined} width={30} height={6} offset={0} />);
  assert.match(lastFrame() ?? "", /no images yet/);
  unmount();
});

test("when not all images fit, the offset picks which are shown and the title says which", () => {
  const { lastFrame, rerender, unmount } = render(<ImagePane batch={batch(5)} width={33} height={6} offset={0} />);
  assert.match(lastFrame() ?? "", /images · step 12 · 1–2 of 5 ←\/→/);
  assert.match(lastFrame() ?? "", /shape 0 \| 0\.123 +shape 1 \| 0\.223/);
  rerender(<ImagePane batch={batch(5)} width={33} height={6} offset={2} />);
  assert.match(lastFrame() ?? "", /3–4 of 5/);
  assert.match(lastFrame() ?? "", /shape 2 \| 0\.323 +shape 3 \| 0\.423/);
  rerender(<ImagePane batch={batch(5)} width={33} height={6} offset={99} />);
  assert.match(lastFrame() ?? "", /4–5 of 5/);
  unmount();
});

test("a batch whose pixels were dropped still lists its captions", () => {
  const { lastFrame, unmount } = render(
    <ImagePane batch={batch(2, { pixelsDropped: true })} width={40} height={6} offset={0} />,
  );
  const frame = lastFrame() ?? "";
  assert.match(frame, /images · step 12 · pixels dropped/);
  assert.match(frame, /shape 0 \| 0\.123\n+shape 1 \| 0\.223/);
  assert.ok(!frame.includes("▀"));
  unmount();
});

test("an unreadable image in a readable batch shows a placeholder instead of pixels", () => {
  const mixed = batch(2);
  mixed.images[1]!.png = new Uint8Array([1, 2, 3]);
  const { lastFrame, unmount } = render(<ImagePane batch={mixed} width={40} height={6} offset={0} />);
  assert.match(lastFrame() ?? "", /\[no pixels\]/);
  assert.match(lastFrame() ?? "", /shape 1 \| 0\.223/);
  unmount();
});
