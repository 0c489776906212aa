/**
 * Pixels to terminal text: decode a PNG (pngjs), box-filter it to a target size, and draw two pixel rows per text
 * row with the upper half block `▀` (24-bit foreground = upper pixel, background = lower pixel). Each text row is
 * one string that ends by resetting the colours, so it can be placed anywhere.
 */
import { PNG } from "pngjs";

/** Straight RGBA, 4 bytes per pixel, row-major. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8Array;
}

const RESET = "\x1b[0m";
const decoded = new WeakMap<Uint8Array, Rgba | undefined>();

/** Decoded pixels of a PNG, or undefined when the bytes are empty or not a readable PNG. Cached per byte array. */
export function decodePng(png: Uint8Array): Rgba | undefined {
  if (png.byteLength === 0) return undefined;
  if (decoded.has(png)) return decoded.get(png);
  let image: Rgba | undefined;
  try {
    const { width, height, data } = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
    image = { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch {
    image = undefined;
  }
  decoded.set(png, image);
  return image;
}

/** Box-filter resample to width × height (each target pixel averages the source pixels it covers). */
export function resize(image: Rgba, width: number, height: number): Rgba {
  if (width === image.width && height === image.height) return image;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const [y0, y1] = span(y, height, image.height);
    for (let x = 0; x < width; x++) {
      const [x0, x1] = span(x, width, image.width);
      const sum = [0, 0, 0, 0];
      for (let sy = y0; sy < y1; sy++) {
        for (let sx = x0; sx < x1; sx++) {
          const i = (sy * image.width + sx) * 4;
          for (let k = 0; k < 4; k++) sum[k]! += image.data[i + k]!;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      for (let k = 0; k < 4; k++) data[(y * width + x) * 4 + k] = Math.round(sum[k]! / n);
    }
  }
  return { width, height, data };
}

/** The largest size, in text cells, that keeps the aspect ratio, fits columns × rows, and never upscales. */
export function fitCells(image: Rgba, columns: number, rows: number): { columns: number; rows: number } {
  const scale = Math.min(1, columns / image.width, (rows * 2) / image.height);
  return {
    columns: Math.max(1, Math.round(image.width * scale)),
    rows: Math.max(1, Math.ceil((image.height * scale) / 2)),
  };
}

/** One string per text row: `▀` cells coloured with 24-bit escapes, alpha composited over black. */
export function halfBlockRows(image: Rgba, columns: number, rows: number): string[] {
  const pixels = resize(image, columns, rows * 2);
  return Array.from({ length: rows }, (_, row) => {
    let line = "";
    for (let x = 0; x < columns; x++) {
      const upper = rgb(pixels, x, row * 2).join(";");
      const lower = rgb(pixels, x, row * 2 + 1).join(";");
      line += `\x1b[38;2;${upper}m\x1b[48;2;${lower}m▀`;
    }
    return line + RESET;
  });
}

function rgb(image: Rgba, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 4;
  const alpha = image.data[i + 3]! / 255;
  const channel = (k: number): number => Math.round(image.data[i + k]! * alpha);
  return [channel(0), channel(1), channel(2)];
}

/** Source index range [start, end) covered by target index i; always at least one pixel. */
function span(i: number, target: number, source: number): [number, number] {
  const start = Math.floor((i * source) / target);
  const end = Math.max(start + 1, Math.floor(((i + 1) * source) / target));
  return [start, Math.min(end, source)];
}
