/** PNG encoding of RGB images (rows top to bottom, 3 bytes a pixel). */
import { PNG } from "pngjs";

export interface RgbImage {
  width: number;
  height: number;
  /** [H, W, 3] bytes. */
  rgb: Uint8Array;
}

export function encodePng(image: RgbImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  for (let i = 0, j = 0; i < image.rgb.length; i += 3, j += 4) {
    png.data[j] = image.rgb[i]!;
    png.data[j + 1] = image.rgb[i + 1]!;
    png.data[j + 2] = image.rgb[i + 2]!;
    png.data[j + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}

/** A PNG's pixels as RGB (alpha dropped). */
export function decodePng(png: Uint8Array): RgbImage {
  const { width, height, data } = PNG.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength));
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) rgb.set(data.subarray(j, j + 3), i);
  return { width, height, rgb };
}

/** RGB images of one size, concatenated, as floats in [0, 1] ([B, H, W, 3]). */
export function imagesToFloats(images: readonly RgbImage[]): Float32Array {
  const size = images[0]?.rgb.length ?? 0;
  const out = new Float32Array(images.length * size);
  images.forEach((image, b) => image.rgb.forEach((v, i) => (out[b * size + i] = v / 255)));
  return out;
}

/** [B, H, W, 3] floats in [0, 1] to one RgbImage each. */
export function floatsToImages(data: Float32Array, batch: number, height: number, width: number): RgbImage[] {
  const size = height * width * 3;
  return Array.from({ length: batch }, (_, b) => {
    const rgb = new Uint8Array(size);
    for (let i = 0; i < size; i++) rgb[i] = Math.round(Math.min(1, Math.max(0, data[b * size + i]!)) * 255);
    return { width, height, rgb };
  });
}

/** The 8 bytes every PNG file starts with. */
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export const isPng = (bytes: Uint8Array): boolean => PNG_SIGNATURE.every((b, i) => bytes[i] === b);
