/**
 * How many of a batch's images the image pane shows side by side at a given size, and how big each tile is. Pure,
 * so the App can clamp ←/→ selection with the same numbers the pane draws with.
 */
import type { ImageBatch } from "../src/gen/alignprop/v1/alignprop_pb.js";
import { decodePng, fitCells } from "./half-blocks.js";

/** Columns between tiles. */
export const TILE_GAP = 1;
/** Captions get at least this many columns even under a tiny image. */
const MIN_CAPTION_WIDTH = 16;

export type ImageGrid =
  /** Pictures: `perPage` tiles of at most tileColumns × tileRows cells, each in a column `columnWidth` wide. */
  | { kind: "tiles"; perPage: number; tileColumns: number; tileRows: number; columnWidth: number }
  /** No pixels to draw (dropped or unreadable): one caption per line. */
  | { kind: "captions"; perPage: number }
  /** Nothing to show or no room for it. */
  | { kind: "empty"; perPage: 0 };

/** One line for the title, one under the tiles for captions. */
export function imageGrid(batch: ImageBatch | undefined, width: number, height: number): ImageGrid {
  const count = batch?.images.length ?? 0;
  if (!batch || count === 0 || height < 2 || width < 1) return { kind: "empty", perPage: 0 };
  const reference = batch.images.map((image) => decodePng(image.png)).find((image) => image !== undefined);
  if (!reference || height < 3) return { kind: "captions", perPage: Math.min(count, height - 1) };

  const widest = count >= 2 ? Math.max(1, Math.floor((width - TILE_GAP) / 2)) : width;
  const tile = fitCells(reference, widest, height - 2);
  const narrowest = Math.min(width, Math.max(tile.columns, MIN_CAPTION_WIDTH));
  const perPage = Math.max(1, Math.min(count, Math.floor((width + TILE_GAP) / (narrowest + TILE_GAP))));
  // Spare width goes to the captions.
  const columnWidth = Math.max(narrowest, Math.floor((width + TILE_GAP) / perPage) - TILE_GAP);
  return { kind: "tiles", perPage, tileColumns: tile.columns, tileRows: tile.rows, columnWidth };
}

/** The first shown image for a requested offset: never past the last full page. */
export function clampOffset(offset: number, count: number, perPage: number): number {
  return Math.max(0, Math.min(offset, count - Math.max(1, perPage)));
}
