/**
 * A tiny captioned world for the stand-in job: prompts "a <colour> <shape>" with the colour's RGB and the shape's
 * mask on a square canvas. The full synthetic world (positions, sizes, backgrounds) replaces it with the embedded
 * default pipeline.
 */
import type { Rng } from "../util/rng.js";

export const COLOURS = {
  red: [0.9, 0.1, 0.1],
  green: [0.1, 0.75, 0.2],
  blue: [0.15, 0.25, 0.9],
  yellow: [0.95, 0.85, 0.1],
  cyan: [0.1, 0.8, 0.85],
  magenta: [0.85, 0.15, 0.8],
  orange: [0.95, 0.55, 0.1],
  white: [0.95, 0.95, 0.95],
} as const satisfies Record<string, readonly [number, number, number]>;
export type Colour = keyof typeof COLOURS;
export const COLOUR_NAMES = Object.keys(COLOURS) as Colour[];

export const SHAPES = ["circle", "square", "triangle"] as const;
export type Shape = (typeof SHAPES)[number];

export interface ShapePrompt {
  prompt: string;
  metadata: { colour: Colour; shape: Shape };
}

export function drawPrompt(rng: Rng): ShapePrompt {
  const colour = rng.pick(COLOUR_NAMES);
  const shape = rng.pick(SHAPES);
  return { prompt: `a ${colour} ${shape}`, metadata: { colour, shape } };
}

/** The colour and shape words a prompt names ("a large red circle …" → {colour: "red", shape: "circle"}), each if any. */
export function parseShapePrompt(prompt: string): { colour?: Colour; shape?: Shape } {
  const words = prompt.toLowerCase().split(/[^a-z]+/);
  const colour = COLOUR_NAMES.find((c) => words.includes(c));
  const shape = SHAPES.find((s) => words.includes(s));
  return { ...(colour ? { colour } : {}), ...(shape ? { shape } : {}) };
}

/** 1 inside the centred shape, 0 outside; [size * size], rows top to bottom. */
export function shapeMask(shape: Shape, size: number): Float32Array {
  const mask = new Float32Array(size * size);
  const c = (size - 1) / 2;
  const r = size * 0.32;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const dx = x - c;
      const dy = y - c;
      const inside =
        shape === "circle"
          ? dx * dx + dy * dy <= r * r
          : shape === "square"
            ? Math.abs(dx) <= r && Math.abs(dy) <= r
            : dy <= r && dy >= -r && Math.abs(dx) <= (dy + r) / 2;
      mask[y * size + x] = inside ? 1 : 0;
    }
  }
  return mask;
}
