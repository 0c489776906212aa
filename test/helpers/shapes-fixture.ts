/**
 * The cross-engine classifier fixture (python/tests/fixtures/shapes-classifier/): rendered shapes-world scenes, some
 * clean and some degraded like a diffusion sample (noise, a soft blur, a faded shape), plus plain images with nothing
 * to find, as 8-bit PNGs, and `labels.json` with what `classifyColour` / `classifyShape` say of each PNG's pixels.
 * The Python port (alignprop_torch/eval/shapes_classifier.py) must say the same of every one.
 * `node dist/test/helpers/shapes-fixture.js <dir>` writes it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { classifyColour, classifyShape, renderScene, scene, WORLD_SIZE } from "../../src/data/shapes-world.js";
import { encodePng, floatsToImages, imagesToFloats, type RgbImage } from "../../src/io/png.js";
import { Rng } from "../../src/util/rng.js";

export const SHAPES_FIXTURE_DIR = "python/tests/fixtures/shapes-classifier";

export interface FixtureLabel {
  file: string;
  colour: string | null;
  shape: string | null;
  shapePixels: number;
}

/** What the TS classifiers say of an 8-bit image. */
export function labelOf(file: string, image: RgbImage): FixtureLabel {
  const pixels = imagesToFloats([image]);
  const guess = classifyColour(pixels, image.width);
  return { file, colour: guess.colour ?? null, shape: classifyShape(pixels, image.width) ?? null, shapePixels: guess.shapePixels };
}

/** The fixture's images, deterministic. */
export function fixtureImages(): RgbImage[] {
  const rng = new Rng(16);
  const size = WORLD_SIZE;
  const images: RgbImage[] = [];
  for (let i = 0; i < 48; i++) {
    const pixels = renderScene(scene(rng), size);
    const degrade = i % 3; // 0 clean, 1 noisy and blurred, 2 faded towards the background
    if (degrade === 1) blurAndNoise(pixels, size, rng);
    if (degrade === 2) fade(pixels, 0.45 + 0.3 * rng.uniform());
    images.push(floatsToImages(pixels, 1, size, size)[0]!);
  }
  for (const grey of [0, 0.5, 1]) images.push(floatsToImages(new Float32Array(size * size * 3).fill(grey), 1, size, size)[0]!);
  return images;
}

function blurAndNoise(pixels: Float32Array, size: number, rng: Rng): void {
  const copy = pixels.slice();
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let sum = 0;
        let n = 0;
        for (const [dx, dy] of [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
          const [u, v] = [x + dx, y + dy];
          if (u < 0 || v < 0 || u >= size || v >= size) continue;
          sum += copy[(v * size + u) * 3 + c]!;
          n++;
        }
        pixels[(y * size + x) * 3 + c] = sum / n + (rng.uniform() - 0.5) * 0.2;
      }
    }
  }
}

/** Moves every pixel towards the corner pixel's colour by `amount`. */
function fade(pixels: Float32Array, amount: number): void {
  const bg = [pixels[0]!, pixels[1]!, pixels[2]!];
  for (let i = 0; i < pixels.length; i++) pixels[i] = pixels[i]! + amount * (bg[i % 3]! - pixels[i]!);
}

export function writeFixture(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const labels = fixtureImages().map((image, i) => {
    writeFileSync(join(dir, `${i}.png`), encodePng(image));
    return labelOf(`${i}.png`, image);
  });
  writeFileSync(join(dir, "labels.json"), JSON.stringify(labels, null, 2) + "\n");
}

if (process.argv[1]?.endsWith("shapes-fixture.js") && process.argv[2]) writeFixture(process.argv[2]);
