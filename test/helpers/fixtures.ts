/**
 * Reading the reference fixtures that python/oracle/ (diffusers, transformers) and scripts/reference/ write into
 * test/fixtures/<area>/:
 * JSON, `*.keys.txt` (key → PyTorch shape) and safetensors, plus the comparisons the numerics tests make.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors, type TensorMap } from "../../src/io/safetensors.js";

/** The readers for one area's folder, test/fixtures/<area>/ (resolved from dist/test/helpers/). */
export function fixtureArea(area: string) {
  const dir = fileURLToPath(new URL(`../../../test/fixtures/${area}/`, import.meta.url));
  const fixturePath = (name: string) => dir + name;
  return {
    fixturePath,
    readJson: (name: string) => JSON.parse(readFileSync(fixturePath(name), "utf8")) as Record<string, unknown>,
    /** A `*.keys.txt` file: key → PyTorch shape ([] for a 0-d tensor). */
    readKeys(name: string): Map<string, number[]> {
      const lines = readFileSync(fixturePath(name), "utf8").split("\n");
      const rows = lines.filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t") as [string, string]);
      return new Map(rows.map(([key, shape]) => [key, shape === "" ? [] : shape.split(",").map(Number)]));
    },
    readTensors: async (name: string): Promise<TensorMap> => (await readSafetensors(fixturePath(name))).tensors,
  };
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
