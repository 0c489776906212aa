import assert from "node:assert/strict";
import { test } from "node:test";
import { Rng } from "../../src/util/rng.js";

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.uniform());

test("the same seed gives the same sequence", () => {
  assert.deepEqual(draw(new Rng(42), 100), draw(new Rng(42), 100));
  assert.deepEqual(new Rng(42).normal(33), new Rng(42).normal(33));
});

test("different seeds give different sequences", () => {
  assert.notDeepEqual(draw(new Rng(1), 10), draw(new Rng(2), 10));
});

test("a generator restored from state continues the sequence exactly", () => {
  const rng = new Rng(2024);
  draw(rng, 17);
  rng.normal(5);
  const restored = new Rng(rng.state);
  assert.deepEqual(draw(restored, 50), draw(rng, 50));
  assert.deepEqual(restored.normal(9), rng.normal(9));
  assert.equal(restored.state, rng.state);
});

test("the state is one uint32, and a seed outside that range is reduced to it", () => {
  const rng = new Rng(-1);
  assert.equal(rng.state, 0xffffffff);
  assert.deepEqual(draw(rng, 5), draw(new Rng(0xffffffff), 5));
  for (let i = 0; i < 1000; i++) {
    rng.uniform();
    assert.ok(Number.isInteger(rng.state) && rng.state >= 0 && rng.state <= 0xffffffff);
  }
});

test("uniform() stays in [0, 1) with mean about 1/2", () => {
  const xs = draw(new Rng(9), 10_000);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
});

test("int(n) covers 0 … n-1 and nothing else", () => {
  const rng = new Rng(5);
  const seen = new Set(Array.from({ length: 1000 }, () => rng.int(6)));
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4, 5]);
});

test("pick() returns each item of the list", () => {
  const rng = new Rng(6);
  const seen = new Set(Array.from({ length: 200 }, () => rng.pick(["circle", "square", "triangle"])));
  assert.deepEqual([...seen].sort(), ["circle", "square", "triangle"]);
});

test("normal() samples have mean about 0 and standard deviation about 1 over 10,000 draws", () => {
  const xs = new Rng(11).normal(10_000);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 0.05, `std ${std}`);
  assert.ok(xs.every(Number.isFinite));
});

test("normal(n) fills all n values, odd n included", () => {
  const xs = new Rng(3).normal(7);
  assert.equal(xs.length, 7);
  assert.ok(xs.every((x) => x !== 0));
});
