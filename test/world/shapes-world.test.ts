import assert from "node:assert/strict";
import { test } from "node:test";
import { COLOUR_NAMES, SHAPES } from "../../src/data/shape-prompts.js";
import {
  aestheticScore,
  BACKGROUND_COLOURS,
  caption,
  captionWords,
  classifyColour,
  randomCaption,
  renderScene,
  scene,
  WORLD_SIZE,
  type Scene,
} from "../../src/data/shapes-world.js";
import { Rng } from "../../src/util/rng.js";

const base: Scene = { colour: "red", shape: "circle", size: "large", position: "centre", background: "blue", cx: 16, cy: 16, radius: 10 };

test("the same seed draws the same scenes and pixels; another seed draws others", () => {
  const draw = (seed: number) => {
    const rng = new Rng(seed);
    return Array.from({ length: 20 }, () => scene(rng));
  };
  assert.deepEqual(draw(4), draw(4));
  assert.notDeepEqual(draw(4), draw(5));
  assert.deepEqual(renderScene(draw(4)[0]!), renderScene(draw(4)[0]!));
});

test("scenes cover every colour and shape, and the background is never the shape's colour", () => {
  const rng = new Rng(1);
  const scenes = Array.from({ length: 2000 }, () => scene(rng));
  assert.deepEqual(new Set(scenes.map((s) => s.colour)), new Set(COLOUR_NAMES));
  assert.deepEqual(new Set(scenes.map((s) => s.shape)), new Set(SHAPES));
  assert.ok(scenes.every((s) => (s.background as string) !== s.colour));
});

test("captions follow the grammar, and random captions keep the colour and shape always", () => {
  assert.equal(caption(base), "a large red circle in the centre on a blue background");
  assert.equal(caption({ ...base, position: "top left" }, { position: true }), "a red circle at the top left");
  assert.equal(caption(base, {}), "a red circle");
  const rng = new Rng(2);
  const seen = new Set(Array.from({ length: 200 }, () => randomCaption(base, rng)));
  assert.ok(seen.has("a red circle") && seen.has("a large red circle in the centre on a blue background"));
  for (const c of seen) assert.match(c, /red circle/);
  const words = new Set(captionWords());
  for (const c of seen) for (const w of c.split(" ")) assert.ok(words.has(w), w);
});

test("the image is the shape's colour at its centre and the background's in the corners, in [0, 1]", () => {
  const pixels = renderScene(base);
  const at = (x: number, y: number) => [...pixels.subarray((y * WORLD_SIZE + x) * 3, (y * WORLD_SIZE + x) * 3 + 3)];
  assert.deepEqual(at(16, 16).map((v) => +v.toFixed(3)), [0.9, 0.1, 0.1]);
  assert.deepEqual(at(0, 0).map((v) => +v.toFixed(3)), BACKGROUND_COLOURS.blue.map((v) => +v.toFixed(3)));
  assert.ok(pixels.every((v) => v >= 0 && v <= 1));
});

test("the held-out colour classifier names the shape's colour of every rendered scene, and none on a plain image", () => {
  const rng = new Rng(3);
  for (let i = 0; i < 500; i++) {
    const s = scene(rng);
    assert.equal(classifyColour(renderScene(s), WORLD_SIZE).colour, s.colour, JSON.stringify(s));
  }
  assert.equal(classifyColour(new Float32Array(WORLD_SIZE * WORLD_SIZE * 3).fill(0.5), WORLD_SIZE).colour, undefined);
});

test("the hidden preference scores large centred shapes above small ones in a corner, within [0, 1]", () => {
  const small = { ...base, size: "small" as const, radius: 5 };
  const corner = { ...base, position: "top left" as const, cx: 9.6, cy: 9.6 };
  assert.ok(aestheticScore(base) > aestheticScore(corner));
  assert.ok(aestheticScore(base) > aestheticScore(small));
  assert.ok(aestheticScore(corner) > aestheticScore({ ...corner, radius: 5 }));
  const rng = new Rng(6);
  for (let i = 0; i < 300; i++) {
    const v = aestheticScore(scene(rng));
    assert.ok(v >= 0 && v <= 1, String(v));
  }
});
