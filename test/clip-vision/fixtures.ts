/** Reading this area's fixtures (test/fixtures/clip-vision/, written by scripts/reference/clip_vision.py). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors, type TensorMap } from "../../src/io/safetensors.js";

/** dist/test/clip-vision/ → test/fixtures/clip-vision/ */
const DIR = fileURLToPath(new URL("../../../test/fixtures/clip-vision/", import.meta.url));

/** The reference script's tiny configs (VISION and TEXT in scripts/reference/clip_vision.py). */
export const TINY_VISION = { hidden_size: 32, intermediate_size: 37, num_hidden_layers: 2, num_attention_heads: 4, image_size: 32, patch_size: 8, projection_dim: 16 };
export const TINY_TEXT = { vocab_size: 874, hidden_size: 24, intermediate_size: 48, num_hidden_layers: 2, num_attention_heads: 2, eos_token_id: 873 };

export const fixturePath = (name: string) => DIR + name;

export function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fixturePath(name), "utf8")) as Record<string, unknown>;
}

/** A `*.keys.txt` file: key → PyTorch shape ([] for a 0-d tensor). */
export function readKeys(name: string): Map<string, number[]> {
  const lines = readFileSync(fixturePath(name), "utf8").split("\n");
  const rows = lines.filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t") as [string, string]);
  return new Map(rows.map(([key, shape]) => [key, shape === "" ? [] : shape.split(",").map(Number)]));
}

export async function readTensors(name: string): Promise<TensorMap> {
  return (await readSafetensors(fixturePath(name))).tensors;
}

/** A fixture tensor as TF.js; NCHW ones (PyTorch images) become NHWC. */
export function tensorOf(map: TensorMap, key: string, layout: "plain" | "nchw" = "plain"): tf.Tensor {
  const t = map[key];
  if (!t) throw new Error(`fixture has no tensor "${key}"`);
  return tf.tidy(() => {
    const x = tf.tensor(t.data, t.shape);
    return layout === "nchw" ? tf.transpose(x, [0, 2, 3, 1]) : x;
  });
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
