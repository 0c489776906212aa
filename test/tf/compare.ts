/**
 * Runs the same TF.js function on two backends with identical seeded inputs and measures how far apart they are;
 * lists the kernels a computation dispatches.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";

/** Deterministic uniform values in [-1, 1) (a 31-bit LCG), so both backends see the same inputs. */
export function randomValues(shape: readonly number[], seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  return Float32Array.from({ length: tf.util.sizeFromShape([...shape]) }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 1;
    return (s / 0x80000000) * 2 - 1;
  });
}

export type Fn = (...inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];

/** Runs `f` on `backend` over fresh tensors made from `shapes` (seeded by position) and returns every output. */
export async function runOn(backend: string, f: Fn, shapes: readonly (readonly number[])[]): Promise<Float32Array[]> {
  assert.ok(await tf.setBackend(backend), `tf.setBackend("${backend}")`);
  const outputs = tf.tidy(() => {
    const out = f(...shapes.map((shape, i) => tf.tensor(randomValues(shape, 7 + 31 * i), [...shape])));
    return Array.isArray(out) ? out : [out];
  });
  const values = outputs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outputs);
  return values;
}

/** max |a − e| / max |e| over each output: the error relative to the output's scale. */
export function relativeErrors(actual: Float32Array[], expected: Float32Array[]): number[] {
  assert.equal(actual.length, expected.length, "number of outputs");
  return expected.map((e, i) => {
    const a = actual[i]!;
    assert.equal(a.length, e.length, `output ${i} length`);
    let diff = 0;
    let scale = 0;
    for (let k = 0; k < e.length; k++) {
      diff = Math.max(diff, Math.abs(a[k]! - e[k]!));
      scale = Math.max(scale, Math.abs(e[k]!));
    }
    return scale === 0 ? diff : diff / scale;
  });
}

/**
 * Many arrays (a loss and every weight's gradient) against their expected values: taken together as one vector within
 * `together` of its largest value, and each within `each` of its own scale (a small layer's gradient is ~1e-3 of the
 * largest, so rounding that is nothing for the whole can be ~1e-5 of it). Both errors go to `t`'s diagnostics.
 */
export function assertManyClose(
  what: string,
  actual: readonly Float32Array[],
  expected: readonly Float32Array[],
  t: { diagnostic(message: string): void },
  tolerance: { together: number; each: number },
) {
  const flat = (arrays: readonly Float32Array[]) => Float32Array.from(arrays.flatMap((a) => [...a]));
  const together = relativeErrors([flat(actual)], [flat(expected)])[0]!;
  const each = Math.max(...relativeErrors([...actual], [...expected]));
  t.diagnostic(`${what}: relative error ${together.toExponential(2)} as one vector, ${each.toExponential(2)} worst tensor`);
  assert.ok(together <= tolerance.together, `${what}: relative error ${together.toExponential(2)} > ${tolerance.together}`);
  assert.ok(each <= tolerance.each, `${what}: a tensor's relative error ${each.toExponential(2)} > ${tolerance.each}`);
}

/** Asserts `f` on `backend` matches the stock `cpu` backend to `tolerance` relative error on every output. */
export async function assertMatchesCpu(backend: string, f: Fn, shapes: readonly (readonly number[])[], tolerance = 1e-4) {
  const expected = await runOn("cpu", f, shapes);
  const actual = await runOn(backend, f, shapes);
  const errors = relativeErrors(actual, expected);
  for (const [i, err] of errors.entries()) {
    assert.ok(err <= tolerance, `output ${i}: relative error ${err.toExponential(2)} > ${tolerance}`);
  }
}

/** `f`'s gradients for every input of `sum(f(...)²)`: exercises the backward kernels with a non-trivial dy. */
export const gradsOf = (f: (...inputs: tf.Tensor[]) => tf.Tensor): Fn => (...inputs) =>
  tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.square(f(...xs))))(inputs);

/** Runs `f`, collecting the name of every kernel TF.js dispatches meanwhile (at any depth). */
export function dispatched<T>(f: () => T): { result: T; kernels: Set<string> } {
  const engine = tf.engine();
  const runKernel = engine.runKernel;
  const kernels = new Set<string>();
  engine.runKernel = function (name: string, ...rest: unknown[]) {
    kernels.add(name);
    return (runKernel as (...args: unknown[]) => unknown).call(engine, name, ...rest);
  } as typeof engine.runKernel;
  try {
    return { result: f(), kernels };
  } finally {
    engine.runKernel = runKernel;
  }
}
