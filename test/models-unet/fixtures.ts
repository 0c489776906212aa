/** Reading this area's fixtures (test/fixtures/unet/, written by diffusers through python/oracle/unet.py). */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import { readSafetensors, type TensorMap } from "../../src/io/safetensors.js";
import type { Module } from "../../src/models/nn/module.js";
import { loadStateDict } from "../../src/models/nn/state-dict.js";

/** dist/test/models-unet/ → test/fixtures/unet/ */
export const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/unet/", import.meta.url));

/** The tolerance every comparison with diffusers in float64 uses (the largest error seen is 1.4e-6). */
export const TOLERANCE = 1e-5;

export function readJson(name: string): unknown {
  return JSON.parse(readFileSync(FIXTURES + name, "utf8"));
}

/** `key<TAB>shape` lines of a `*.keys.txt` reference file, comments skipped. */
export function readKeys(name: string): Map<string, string> {
  const lines = readFileSync(FIXTURES + name, "utf8").split("\n");
  return new Map(lines.filter((l) => l && !l.startsWith("#")).map((l) => l.split("\t") as [string, string]));
}

/** A fixture's `io.*` tensors, keyed without the prefix. */
export interface Fixture {
  tensors: TensorMap;
  io: (name: string) => tf.Tensor;
}

export async function readFixture(file: string): Promise<Fixture> {
  const { tensors } = await readSafetensors(FIXTURES + file);
  const io = (name: string) => {
    const t = tensors[`io.${name}`];
    assert.ok(t, `${file} has no tensor "io.${name}"`);
    return tf.tensor(t.data, t.shape);
  };
  return { tensors, io };
}

/** Loads the fixture's parameters (every key but `io.*`) into `module`, which must match them exactly. */
export function loadParams(module: Module, fixture: Fixture, source: string): void {
  loadStateDict(module, fixture.tensors, { ignore: (k) => k.startsWith("io."), source });
}

export function maxAbsError(actual: tf.Tensor, expected: tf.Tensor): number {
  assert.deepEqual(actual.shape, expected.shape, "shape");
  return tf.tidy(() => tf.max(tf.abs(tf.sub(actual, expected))).dataSync()[0]!);
}

/** Asserts max |actual − expected| ≤ TOLERANCE and returns the error, for the report. */
export function assertClose(actual: tf.Tensor, expected: tf.Tensor, what: string): number {
  const err = maxAbsError(actual, expected);
  assert.ok(err <= TOLERANCE, `${what}: max abs error ${err} exceeds ${TOLERANCE}`);
  return err;
}
