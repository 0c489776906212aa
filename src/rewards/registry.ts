/**
 * Rewards by name: the built-ins (`brightness`, `saturation`, `contrast`, `hue[:target]`, the model-based
 * `aesthetic:head=…[,clip=…]` and `clip-score[:clip=…]`, and the embedded pipeline's `tiny-aesthetic` and
 * `tiny-clip-score`) or a path to a user module. `resolveReward` is what
 * `--reward` / the config's `reward` field goes through.
 */
import { embeddedModel, TINY_SHAPES } from "../models/embedded.js";
import { aestheticFromSpec, loadAestheticHead, aestheticReward } from "./aesthetic.js";
import { brightness, contrast, hue, saturation } from "./builtin.js";
import { clipScoreFromSpec, clipScoreReward } from "./clip-score.js";
import { loadClipModel } from "../models/clip/clip-model.js";
import { loadClipVisionModel } from "../models/clip/vision-model.js";
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
  "tiny-aesthetic": () => tinyAesthetic(),
  "tiny-clip-score": () => tinyClipScore(),
});

/** The embedded pipeline's rewards, trained by `alignprop pretrain` and shipped beside it. */
const tinyShapes = () => embeddedModel(TINY_SHAPES)!;

/** The hidden preference of the shapes world (large shapes near the centre), as learned by the tiny aesthetic head. */
async function tinyAesthetic(): Promise<Reward> {
  const m = tinyShapes();
  const head = await loadAestheticHead(m.aestheticHead);
  const vision = await loadClipVisionModel(m.clipDir);
  const reward = aestheticReward(vision, head, { clipName: "tiny-shapes/clip" });
  return { ...reward, info: { ...reward.info, name: "tiny-aesthetic" } };
}

/** Image–prompt alignment by the tiny CLIP (the shapes world's analogue of HPS / PickScore). */
async function tinyClipScore(): Promise<Reward> {
  const { model, tokenizer } = await loadClipModel(tinyShapes().clipDir);
  const reward = clipScoreReward(model, tokenizer, { clipName: "tiny-shapes/clip" });
  return { ...reward, info: { ...reward.info, name: "tiny-clip-score" } };
}
/** The built-ins that take the text after "name:". */
const TAKES_ARGUMENT = new Set(["hue", "aesthetic", "clip-score"]);

export const BUILTIN_REWARDS: readonly string[] = Object.keys(BUILTINS);

/**
 * A path (has a slash or a .js/.mjs/.cjs ending) is a user module; anything else a built-in, with an optional ":arg"
 * (which may itself hold paths: `aesthetic:head=./head.safetensors`).
 */
export function isRewardPath(spec: string): boolean {
  const colon = spec.indexOf(":");
  if (colon > 0 && Object.hasOwn(BUILTINS, spec.slice(0, colon))) return false;
  return /[\\/]/.test(spec) || /\.(m|c)?js$/.test(spec);
}

export async function resolveReward(spec: string): Promise<Reward> {
  if (isRewardPath(spec)) return loadRewardModule(spec);
  const colon = spec.indexOf(":");
  const name = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? undefined : spec.slice(colon + 1);
  const make = BUILTINS[name];
  if (!make) {
    throw new Error(`reward=${JSON.stringify(spec)} is neither a built-in (${BUILTIN_REWARDS.join(", ")}) nor a module path such as ./my-reward.js`);
  }
  if (arg !== undefined && !TAKES_ARGUMENT.has(name)) throw new Error(`reward=${JSON.stringify(spec)}: ${name} takes no argument`);
  return await make(arg);
}
