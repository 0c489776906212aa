import assert from "node:assert/strict";
import { test } from "node:test";
import { PNG } from "pngjs";
import { encodePng, floatsToImages } from "../../src/io/png.js";

test("encodePng writes a PNG that decodes to the same RGB pixels, fully opaque", () => {
  const width = 5;
  const height = 3;
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + 11) % 256);
  const png = encodePng({ width, height, rgb });
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  const decoded = PNG.sync.read(Buffer.from(png));
  assert.equal(decoded.width, width);
  assert.equal(decoded.height, height);
  for (let p = 0; p < width * height; p++) {
    assert.deepEqual([...decoded.data.subarray(p * 4, p * 4 + 4)], [rgb[p * 3], rgb[p * 3 + 1], rgb[p * 3 + 2], 255], `pixel ${p}`);
  }
});

test("encodePng keeps rows top to bottom: the first row of the input is the first row of the image", () => {
  const rgb = new Uint8Array(2 * 2 * 3);
  rgb.set([255, 0, 0, 255, 0, 0]); // row 0 red
  rgb.set([0, 0, 255, 0, 0, 255], 6); // row 1 blue
  const decoded = PNG.sync.read(Buffer.from(encodePng({ width: 2, height: 2, rgb })));
  assert.deepEqual([...decoded.data.subarray(0, 4)], [255, 0, 0, 255]);
  assert.deepEqual([...decoded.data.subarray(8, 12)], [0, 0, 255, 255]);
});

test("floatsToImages clamps values outside [0, 1] and rounds to the nearest byte", () => {
  const data = Float32Array.from([-0.5, 0, 1, 1.5, 0.5, 0.2, 100.4 / 255, 100.6 / 255, -Infinity, Infinity, 1e-9, 1 - 1e-9]);
  const [image] = floatsToImages(data, 1, 2, 2);
  assert.deepEqual([...image!.rgb], [0, 0, 255, 255, 128, 51, 100, 101, 0, 255, 0, 255]);
});

test("floatsToImages splits a [B, H, W, 3] batch into B images of the given size", () => {
  const height = 2;
  const width = 3;
  const size = height * width * 3;
  const data = new Float32Array(3 * size);
  for (let b = 0; b < 3; b++) data.fill(b / 4, b * size, (b + 1) * size);
  const images = floatsToImages(data, 3, height, width);
  assert.equal(images.length, 3);
  images.forEach((image, b) => {
    assert.equal(image.width, width);
    assert.equal(image.height, height);
    assert.equal(image.rgb.length, size);
    assert.deepEqual(new Set(image.rgb), new Set([Math.round((b / 4) * 255)]), `image ${b}`);
  });
});

test("floatsToImages then encodePng gives a PNG of the generated image", () => {
  const [image] = floatsToImages(Float32Array.from([0, 0.5, 1, 1, 0.5, 0]), 1, 1, 2);
  const decoded = PNG.sync.read(Buffer.from(encodePng(image!)));
  assert.deepEqual([...decoded.data], [0, 128, 255, 255, 255, 128, 0, 255]);
});
