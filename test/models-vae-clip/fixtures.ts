/** Reading this area's fixtures (test/fixtures/vae-clip/, written by scripts/reference/vae_clip.py). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors, type TensorMap } from "../../src/io/safetensors.js";

/** dist/test/models-vae-clip/ → test/fixtures/vae-clip/ */
const DIR = fileURLToPath(new URL("../../../test/fixtures/vae-clip/", import.meta.url));

export const fixturePath = (name: string) => DIR + name;

export function readJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(fixturePath(name), "utf8")) as Record<string, unknown>;
}

/** A `*.keys.txt` file: key → PyTorch shape. */
export function readKeys(name: string): Map<string, number[]> {
  const lines = readFileSync(fixturePath(name), "utf8").split("\n");
  const rows = lines.filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t") as [string, string]);
  return new Map(rows.map(([key, shape]) => [key, shape.split(",").map(Number)]));
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
