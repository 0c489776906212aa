/**
 * The synthetic captioned world the embedded default pipeline (models/tiny-shapes) is trained on: seeded 32×32 RGB
 * images of one shape (circle, square, triangle) in a named colour, small or large, at one of five positions, on a
 * plain background of another named colour, with a caption ("a large red circle at the top left on a blue background")
 * and structured metadata. `scene` draws one at random, `renderScene` paints it (4×4 supersampled edges).
 *
 * The hidden preference behind the tiny aesthetic scorer is `aestheticScore`: large shapes near the centre score high.
 * Captions never mention it, so a model prompted with "a red circle" draws every size and place until a reward
 * teaches it otherwise.
 */
import type { Rng } from "../util/rng.js";
import { COLOUR_NAMES, COLOURS, SHAPES, type Colour, type Shape } from "./shape-prompts.js";

export const WORLD_SIZE = 32;

/** Background colours: the shape colours plus black and gray (never the shape's own colour). */
export const BACKGROUND_COLOURS = {
  black: [0.06, 0.06, 0.08],
  gray: [0.5, 0.5, 0.5],
  white: COLOURS.white,
  blue: COLOURS.blue,
  green: COLOURS.green,
  red: COLOURS.red,
} as const satisfies Record<string, readonly [number, number, number]>;
export type Background = keyof typeof BACKGROUND_COLOURS;
export const BACKGROUND_NAMES = Object.keys(BACKGROUND_COLOURS) as Background[];

export const SIZES = ["small", "large"] as const;
export type Size = (typeof SIZES)[number];
/** Radius range (pixels on the 32-pixel canvas) of each size. */
const RADIUS: Record<Size, [number, number]> = { small: [4.5, 6.5], large: [9, 11] };

export const POSITIONS = ["centre", "top left", "top right", "bottom left", "bottom right"] as const;
export type Position = (typeof POSITIONS)[number];
/** Centre of each position as a fraction of the canvas. */
const POSITION_CENTRE: Record<Position, [number, number]> = {
  centre: [0.5, 0.5],
  "top left": [0.3, 0.3],
  "top right": [0.7, 0.3],
  "bottom left": [0.3, 0.7],
  "bottom right": [0.7, 0.7],
};

export interface Scene {
  colour: Colour;
  shape: Shape;
  size: Size;
  position: Position;
  background: Background;
  /** Centre and radius in pixels. */
  cx: number;
  cy: number;
  radius: number;
}

export function scene(rng: Rng, size = WORLD_SIZE): Scene {
  const colour = rng.pick(COLOUR_NAMES);
  const shape = rng.pick(SHAPES);
  const sz = rng.pick(SIZES);
  const position = rng.pick(POSITIONS);
  const background = rng.pick(BACKGROUND_NAMES.filter((b) => b !== colour));
  const [lo, hi] = RADIUS[sz];
  const scale = size / WORLD_SIZE;
  const jitter = () => (rng.uniform() - 0.5) * 3 * scale;
  const [fx, fy] = POSITION_CENTRE[position];
  return {
    colour,
    shape,
    size: sz,
    position,
    background,
    cx: fx * size + jitter(),
    cy: fy * size + jitter(),
    radius: (lo + rng.uniform() * (hi - lo)) * scale,
  };
}

function positionPhrase(p: Position): string {
  return p === "centre" ? "in the centre" : `at the ${p}`;
}

export interface CaptionParts {
  size?: boolean;
  position?: boolean;
  background?: boolean;
}

/** "a [size] <colour> <shape> [position] [on a <background> background]", with the parts asked for (all by default). */
export function caption(s: Scene, parts: CaptionParts = { size: true, position: true, background: true }): string {
  const words = ["a"];
  if (parts.size) words.push(s.size);
  words.push(s.colour, s.shape);
  if (parts.position) words.push(positionPhrase(s.position));
  if (parts.background) words.push(`on a ${s.background} background`);
  return words.join(" ");
}

/** A caption with each optional part kept with probability `keep` (training captions: short and long prompts alike). */
export function randomCaption(s: Scene, rng: Rng, keep = 0.5): string {
  return caption(s, { size: rng.uniform() < keep, position: rng.uniform() < keep, background: rng.uniform() < keep });
}

/** Every word a caption can use, for the tokenizer's vocabulary. */
export function captionWords(): string[] {
  const phrases = [
    "a on background in the at",
    ...SIZES,
    ...COLOUR_NAMES,
    ...SHAPES,
    ...POSITIONS,
    ...BACKGROUND_NAMES,
  ];
  return [...new Set(phrases.join(" ").split(" "))];
}

function inside(shape: Shape, dx: number, dy: number, r: number): boolean {
  switch (shape) {
    case "circle":
      return dx * dx + dy * dy <= r * r;
    case "square": {
      const h = r * 0.85;
      return Math.abs(dx) <= h && Math.abs(dy) <= h;
    }
    case "triangle": {
      // Apex up, base at dy = +r·0.8, apex at dy = −r.
      const top = -r;
      const bottom = r * 0.8;
      if (dy < top || dy > bottom) return false;
      return Math.abs(dx) <= ((dy - top) / (bottom - top)) * r;
    }
  }
}

const SUPERSAMPLE = 4;

/** The scene as [size, size, 3] floats in [0, 1], rows top to bottom (HWC). */
export function renderScene(s: Scene, size = WORLD_SIZE): Float32Array {
  const out = new Float32Array(size * size * 3);
  const fg = COLOURS[s.colour];
  const bg = BACKGROUND_COLOURS[s.background];
  const n = SUPERSAMPLE * SUPERSAMPLE;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let hits = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const px = x + (sx + 0.5) / SUPERSAMPLE;
          const py = y + (sy + 0.5) / SUPERSAMPLE;
          if (inside(s.shape, px - s.cx, py - s.cy, s.radius)) hits++;
        }
      }
      const a = hits / n;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = a * fg[c]! + (1 - a) * bg[c]!;
    }
  }
  return out;
}

/**
 * The hidden preference, in [0, 1]: 0.6 for size (radius from the small minimum to the large maximum) plus 0.4 for
 * nearness to the centre (1 at the centre, 0 at a corner position's distance).
 */
export function aestheticScore(s: Scene, size = WORLD_SIZE): number {
  const scale = size / WORLD_SIZE;
  const big = clamp01((s.radius / scale - RADIUS.small[0]) / (RADIUS.large[1] - RADIUS.small[0]));
  const cornerDistance = Math.hypot(0.2, 0.2) * size;
  const near = clamp01(1 - Math.hypot(s.cx - size / 2, s.cy - size / 2) / cornerDistance);
  return 0.6 * big + 0.4 * near;
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

export interface ColourGuess {
  /** The named shape colour nearest the shape's mean colour; undefined when no pixel stands out from the background. */
  colour: Colour | undefined;
  /** How many pixels the shape's colour was taken from (its core). */
  shapePixels: number;
}

/**
 * The held-out colour classifier: no learned weights, so it judges the pipeline's samples independently of every
 * model in it. The background is the per-channel median of the border pixels; the shape is the pixels that stand out
 * from it (RGB distance above 0.3), and its colour is the mean of its core — the pixels at least 60% as far from the
 * background as the farthest one, so soft edges blending into the background do not pull the colour towards it —
 * matched to the nearest shape colour.
 */
export function classifyColour(pixels: Float32Array, size: number): ColourGuess {
  const { distance, farthest } = backgroundDistance(pixels, size);
  const threshold = Math.max(0.3, 0.6 * farthest);
  const sum = [0, 0, 0];
  let count = 0;
  for (let p = 0; p < size * size; p++) {
    if (distance[p]! < threshold) continue;
    for (let c = 0; c < 3; c++) sum[c] = sum[c]! + pixels[3 * p + c]!;
    count++;
  }
  if (count === 0) return { colour: undefined, shapePixels: 0 };
  const mean = sum.map((s) => s / count);
  let best: Colour | undefined;
  let bestDistance = Infinity;
  for (const name of COLOUR_NAMES) {
    const d = Math.hypot(...COLOURS[name].map((v, c) => v - mean[c]!));
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  return { colour: best, shapePixels: count };
}

/**
 * The held-out shape classifier, beside the colour one and as free of learned weights: the shape is the pixels at
 * least half as far from the background as the farthest one (the half-coverage edge of an antialiased shape), and
 * its share of its bounding box tells the shapes apart — a square fills it (1), a circle π/4 ≈ 0.79, the apex-up
 * triangle 1/2. Undefined when no pixel stands out (RGB distance 0.3) from the background.
 */
export function classifyShape(pixels: Float32Array, size: number): Shape | undefined {
  const { distance, farthest } = backgroundDistance(pixels, size);
  if (farthest < 0.3) return undefined;
  const threshold = 0.5 * farthest;
  let [left, right, top, bottom, count] = [size, -1, size, -1, 0];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (distance[y * size + x]! < threshold) continue;
      [left, right, top, bottom] = [Math.min(left, x), Math.max(right, x), Math.min(top, y), Math.max(bottom, y)];
      count++;
    }
  }
  const fill = count / ((right - left + 1) * (bottom - top + 1));
  return fill < SHAPE_FILL_BOUNDS[0] ? "triangle" : fill < SHAPE_FILL_BOUNDS[1] ? "circle" : "square";
}

/** Fill ratios between the triangle's 1/2 and the circle's π/4, and between the circle's and the square's 1. */
const SHAPE_FILL_BOUNDS = [0.64, 0.9] as const;

/**
 * Each pixel's RGB distance from the background, the per-channel median of the border pixels, and the largest one.
 */
function backgroundDistance(pixels: Float32Array, size: number): { distance: Float32Array; farthest: number } {
  const border: number[][] = [[], [], []];
  for (let i = 0; i < size; i++) {
    for (const [x, y] of [[i, 0], [i, size - 1], [0, i], [size - 1, i]] as const) {
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) border[c]!.push(pixels[o + c]!);
    }
  }
  const bg = border.map((v) => v.sort((a, b) => a - b)[v.length >> 1]!);
  const distance = new Float32Array(size * size);
  let farthest = 0;
  for (let p = 0; p < size * size; p++) {
    const o = 3 * p;
    distance[p] = Math.hypot(pixels[o]! - bg[0]!, pixels[o + 1]! - bg[1]!, pixels[o + 2]! - bg[2]!);
    farthest = Math.max(farthest, distance[p]!);
  }
  return { distance, farthest };
}
