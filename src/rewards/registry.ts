/**
 * Rewards by name: the built-ins (`brightness`, `saturation`, `contrast`, `hue[:target]`, the model-based
 * `aesthetic:head=…[,clip=…]` and `clip-score[:clip=…]`, and the embedded pipeline's `tiny-aesthetic` and
 * `tiny-clip-score`) or a path to a user module (JavaScript, loaded here; a Python module is the torch engine's).
 * `resolveReward` is what `--reward` / the config's `reward` field goes through.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { moduleSpec } from "../config/module-spec.js";
import { embeddedModel, TINY_SHAPES } from "../models/embedded.js";
import { aestheticFromSpec, loadAestheticReward } from "./aesthetic.js";
import { brightness, contrast, hue, saturation } from "./builtin.js";
import { clipScoreFromSpec, loadClipScoreReward } from "./clip-score.js";
import type { Reward } from "./reward.js";
import { loadRewardModule } from "./user-module.js";

/** name → factory taking the text after "name:" (absent when none was given). */
const BUILTINS: Readonly<Record<string, (arg: string | undefined) => Reward | Promise<Reward>>> = Object.freeze({
  brightness: () => brightness,
  saturation: () => saturation,
  contrast: () => contrast,
  hue: (target) => hue(target),
  aesthetic: (args) => aestheticFromSpec(args),
  "clip-score": (args) => clipScoreFromSpec(args),
  // The embedded pipeline's rewards, trained by `alignprop pretrain` and shipped beside it (local files, no Hub):
  // the shapes world's hidden preference (large shapes near the centre) as learned by the tiny aesthetic head, and
  // image–prompt alignment by the tiny CLIP (the analogue of HPS / PickScore).
  "tiny-aesthetic": () => loadAestheticReward(tinyShapes().aestheticHead, tinyShapes().clipDir, {}, { ...TINY_CLIP, name: "tiny-aesthetic" }),
  "tiny-clip-score": () => loadClipScoreReward(tinyShapes().clipDir, {}, { ...TINY_CLIP, name: "tiny-clip-score" }),
});

const tinyShapes = () => embeddedModel(TINY_SHAPES)!;
const TINY_CLIP = { clipName: `${TINY_SHAPES}/clip` };
/** The built-ins that take the text after "name:". */
const TAKES_ARGUMENT = new Set(["hue", "aesthetic", "clip-score"]);

export const BUILTIN_REWARDS: readonly string[] = Object.keys(BUILTINS);

/**
 * A path (a slash, a .js/.mjs/.cjs ending, or a Python module's `file.py[:function]`) is a user module; anything else
 * a built-in, with an optional ":arg" (which may itself hold paths: `aesthetic:head=./head.safetensors`).
 */
export function isRewardPath(spec: string): boolean {
  return moduleSpec(spec) !== undefined;
}

export async function resolveReward(spec: string): Promise<Reward> {
  if (isRewardPath(spec)) return loadRewardModule(spec);
  const { make, arg } = builtinOf(spec);
  return await make(arg);
}

/**
 * Throws the error `resolveReward` would for a name it does not know, a built-in given an argument it takes none of,
 * or a module path that does not exist — without loading anything, so a run can refuse it before it starts.
 */
export function checkRewardSpec(spec: string): void {
  if (!isRewardPath(spec)) {
    builtinOf(spec);
    return;
  }
  const { path } = moduleSpec(spec)!;
  if (!existsSync(path)) throw new Error(`reward=${JSON.stringify(spec)}: no such reward module (${resolve(path)} does not exist)`);
}

function builtinOf(spec: string) {
  const colon = spec.indexOf(":");
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? undefined : spec.slice(colon + 1);
  const make = BUILTINS[name];
  if (!make) {
    throw new Error(`reward=${JSON.stringify(spec)} is neither a built-in (${BUILTIN_REWARDS.join(", ")}) nor a module path such as ./my-reward.js (tfjs) or ./my_reward.py (torch)`);
  }
  if (arg !== undefined && !TAKES_ARGUMENT.has(name)) throw new Error(`reward=${JSON.stringify(spec)}: ${name} takes no argument`);
  return { make, arg };
}
