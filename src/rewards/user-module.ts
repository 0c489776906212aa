/**
 * A reward from the user's own ES module (`--reward ./my-reward.js`), loaded with dynamic import and checked on a
 * probe batch before training starts, so a broken module fails at once with its path in the message.
 *
 * The module exports either a default function `(images, prompts, metadata) => rewards`, or an object (default or
 * named exports) `{ reward, differentiable?, inputSize?, range?, name? }`. The function returns a [B] tensor,
 * `{ rewards, meta }`, or TRL's `[rewards, meta]`. It should import the same `@tensorflow/tfjs` as alignprop.
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { gradients } from "../tf/gradients.js";
import { Rng } from "../util/rng.js";
import type { PromptMetadata, Reward, RewardFn, RewardInfo } from "./reward.js";

/** Images in the probe batch. */
const PROBE_BATCH = 2;
/** Probe side length when the module names no inputSize. */
const PROBE_SIZE = 32;

type UserFn = (images: tf.Tensor4D, prompts: readonly string[], metadata: readonly PromptMetadata[]) => unknown;

export async function loadRewardModule(path: string): Promise<Reward> {
  const where = `reward module ${path}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${where} could not be loaded: ${(error as Error).message}`);
  }
  const exported = (typeof mod.default === "object" && mod.default !== null ? mod.default : mod) as Record<string, unknown>;
  const fn = (typeof mod.default === "function" ? mod.default : exported.reward) as UserFn | undefined;
  if (typeof fn !== "function") {
    throw new Error(`${where} exports no reward: export a default function (images, prompts, metadata) => rewards, or { reward, differentiable }`);
  }
  const declared = exported.differentiable;
  if (declared !== undefined && typeof declared !== "boolean") throw new Error(`${where}: differentiable=${JSON.stringify(declared)} must be true or false`);
  const inputSize = exported.inputSize ?? null;
  if (inputSize !== null && !(Number.isInteger(inputSize) && (inputSize as number) > 0)) {
    throw new Error(`${where}: inputSize=${JSON.stringify(inputSize)} must be a positive integer`);
  }
  const range = exported.range ?? [-Infinity, Infinity];
  if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => typeof x === "number") || (range[0] as number) > (range[1] as number)) {
    throw new Error(`${where}: range=${JSON.stringify(range)} must be [min, max] with min ≤ max`);
  }

  const score = wrap(fn, where);
  const hasGradient = probe(score, (inputSize as number | null) ?? PROBE_SIZE, where);
  if (declared === true && !hasGradient.ok) {
    throw new Error(`${where} says differentiable: true, but ${hasGradient.why}; fix it, or export differentiable: false and train with DDPO`);
  }
  const info: RewardInfo = {
    name: typeof exported.name === "string" ? exported.name : path,
    description: `user module ${path}`,
    inputSize: inputSize as number | null,
    range: range as [number, number],
    differentiable: declared ?? hasGradient.ok,
  };
  return { info, score };
}

/** The user's function behind alignprop's calling convention, with every return form checked. */
function wrap(fn: UserFn, where: string): RewardFn {
  return (images, prompts, metadata) => {
    const out = fn(images, prompts, metadata);
    if (out instanceof Promise) throw new Error(`${where} returned a Promise; the reward must return its tensor synchronously`);
    const [rewards, meta] = unpack(out);
    if (!(rewards instanceof tf.Tensor)) {
      throw new Error(`${where} returned ${describe(out)}; it must return a [B] tensor, { rewards, meta } or [rewards, meta]`);
    }
    return { rewards: rewards as tf.Tensor1D, meta: (meta ?? {}) as Record<string, unknown> };
  };
}

/** A tensor, TRL's (rewards, meta) tuple, or { rewards, meta } → [rewards, meta]. */
function unpack(out: unknown): [unknown, unknown] {
  if (out instanceof tf.Tensor) return [out, {}];
  if (Array.isArray(out)) return [out[0], out[1]];
  if (typeof out === "object" && out !== null) return [(out as { rewards?: unknown }).rewards, (out as { meta?: unknown }).meta];
  return [undefined, undefined];
}

/** Runs the reward on a seeded batch: it must give B finite values; reports whether they have a gradient. */
function probe(score: RewardFn, size: number, where: string): { ok: true } | { ok: false; why: string } {
  const rng = new Rng(0);
  const shape: [number, number, number, number] = [PROBE_BATCH, size, size, 3];
  const images = tf.tidy(() => tf.clipByValue(tf.add(tf.mul(tf.tensor4d(rng.normal(PROBE_BATCH * size * size * 3), shape), 0.2), 0.5), 0, 1)) as tf.Tensor4D;
  const prompts = Array.from({ length: PROBE_BATCH }, (_, i) => `probe image ${i}`);
  const metadata = prompts.map(() => ({}));
  try {
    const values = tf.tidy(() => score(images, prompts, metadata).rewards.arraySync());
    if (!Array.isArray(values) || values.length !== PROBE_BATCH || !values.every((v) => typeof v === "number")) {
      const expected = `it must return a [${PROBE_BATCH}] tensor`;
      throw new Error(`${where} returned ${JSON.stringify(values)} for a probe batch of ${PROBE_BATCH} images; ${expected}`);
    }
    if (!values.every(Number.isFinite)) throw new Error(`${where} returned non-finite rewards [${values.join(", ")}] for a probe batch of finite images; the reward is at fault`);
    // gradients (undefined for an unconnected input): tf.grad would throw past the tape's saved tensors and leak them.
    const connected = tf.tidy(() => {
      const { grads } = gradients(() => tf.sum(score(images, prompts, metadata).rewards), [images]);
      return grads[0] !== undefined;
    });
    if (connected) return { ok: true };
    return { ok: false, why: "its rewards have no gradient with respect to the images (no TF.js operations lead from images to rewards)" };
  } catch (error) {
    const message = (error as Error).message;
    throw message.startsWith(where) ? error : new Error(`${where} failed on a probe batch: ${message}`);
  } finally {
    images.dispose();
  }
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === "object" ? `an object with keys ${Object.keys(value).join(", ") || "(none)"}` : `a ${typeof value}`;
}
