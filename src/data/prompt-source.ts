/**
 * Where training prompts come from (the config's `prompts`, TRL's `prompt_fn`): a built-in source by name, or a
 * text file with one prompt per line. Every draw uses the job's seeded generator, so runs and resumes repeat.
 */
import { existsSync, readFileSync } from "node:fs";
import type { PromptMetadata } from "../rewards/reward.js";
import type { Rng } from "../util/rng.js";
import { drawPrompt } from "./shape-prompts.js";

/** TRL's `prompt_fn`, drawing from the job's seeded generator so runs and resumes repeat. */
export type PromptSource = (rng: Rng) => { prompt: string; metadata: PromptMetadata };

/** The simple-animals prompts DDPO/AlignProp examples start from. */
const ANIMALS = [
  "cat", "dog", "horse", "monkey", "rabbit", "zebra", "spider", "bird", "sheep", "deer", "cow", "goat", "lion", "tiger",
  "bear", "raccoon", "fox", "wolf", "lizard", "beetle", "ant", "butterfly", "fish", "shark", "whale", "dolphin",
  "squirrel", "mouse", "rat", "snake", "turtle", "frog", "chicken", "duck", "goose", "bee", "pig", "turkey", "fly",
  "llama", "camel", "bat", "gorilla", "hedgehog", "kangaroo",
];

const BUILTIN: Readonly<Record<string, PromptSource>> = {
  animals: (rng) => {
    const animal = rng.pick(ANIMALS);
    return { prompt: animal, metadata: { animal } };
  },
  shapes: (rng) => drawPrompt(rng),
};

export const PROMPT_SOURCES = Object.keys(BUILTIN);

/** `spec`: "" (the default, `fallback`), a built-in name, or a path to a text file of prompts. */
export function promptSourceFor(spec: string, fallback = "animals"): PromptSource {
  const name = spec || fallback;
  const builtin = BUILTIN[name];
  if (builtin) return builtin;
  if (!existsSync(name)) {
    throw new Error(`prompts=${JSON.stringify(spec)} is neither a built-in source (${PROMPT_SOURCES.join(", ")}) nor an existing text file`);
  }
  const lines = readFileSync(name, "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
  if (!lines.length) throw new Error(`prompts=${JSON.stringify(spec)}: the file has no prompts (one per line)`);
  return (rng) => ({ prompt: rng.pick(lines), metadata: { source: name } });
}
