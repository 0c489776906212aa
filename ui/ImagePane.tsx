/**
 * The latest sample images, drawn in truecolor half blocks and captioned `prompt | reward`. When not all fit,
 * `offset` (moved with ←/→ by the App) picks the first one shown; batches whose pixels were dropped still list
 * their captions.
 */
import { Box, Text } from "ink";
import type { JSX } from "react";
import type { Image, ImageBatch } from "../src/gen/alignprop/v1/alignprop_pb.js";
import { decodePng, fitCells, halfBlockRows } from "./half-blocks.js";
import { clampOffset, imageGrid, TILE_GAP } from "./image-grid.js";

export interface ImagePaneProps {
  batch: ImageBatch | undefined;
  width: number;
  height: number;
  /** Index of the first image to show; clamped to the last full page. */
  offset: number;
  /** The pane's name: "images" (the latest training batch) or "eval" (the latest eval samples). */
  title?: string;
}

export function ImagePane({ batch, width, height, offset, title = "images" }: ImagePaneProps): JSX.Element {
  const grid = imageGrid(batch, width, height);
  if (!batch || grid.kind === "empty") {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Text bold>{title}</Text>
        <Text dimColor>no images yet</Text>
      </Box>
    );
  }
  const count = batch.images.length;
  const first = clampOffset(offset, count, grid.perPage);
  const shown = batch.images.slice(first, first + grid.perPage);
  const range = grid.perPage < count ? ` · ${first + 1}–${first + shown.length} of ${count} ←/→` : "";
  const dropped = batch.pixelsDropped ? " · pixels dropped" : "";
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text bold wrap="truncate-end">{`${title} · step ${batch.step}${range}${dropped}`}</Text>
      {grid.kind === "captions" ? (
        shown.map((image, i) => (
          <Text key={first + i} wrap="truncate-end">
            {caption(image)}
          </Text>
        ))
      ) : (
        <Box flexDirection="row" columnGap={TILE_GAP}>
          {shown.map((image, i) => (
            <Tile
              key={first + i}
              image={image}
              columns={grid.tileColumns}
              rows={grid.tileRows}
              width={grid.columnWidth}
            />
          ))}
        </Box>
      )}
    </Box>
  );
}

function Tile(props: { image: Image; columns: number; rows: number; width: number }): JSX.Element {
  const pixels = decodePng(props.image.png);
  const size = pixels ? fitCells(pixels, props.columns, props.rows) : undefined;
  return (
    <Box flexDirection="column" width={props.width}>
      {pixels && size ? (
        halfBlockRows(pixels, size.columns, size.rows).map((row, y) => (
          <Text key={y} wrap="truncate">
            {row}
          </Text>
        ))
      ) : (
        <Box height={props.rows}>
          <Text dimColor>[no pixels]</Text>
        </Box>
      )}
      <Text wrap="truncate-end">{caption(props.image)}</Text>
    </Box>
  );
}

function caption(image: Image): string {
  return `${image.prompt} | ${image.reward.toFixed(3)}`;
}
