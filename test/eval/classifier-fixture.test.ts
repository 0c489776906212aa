/**
 * The cross-engine classifier fixture (test/helpers/shapes-fixture.ts) is what the TS classifiers make of its PNGs:
 * python/tests/test_eval_monitors.py checks the Python port says the same of every one.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { decodePng } from "../../src/io/png.js";
import { fixtureImages, labelOf, SHAPES_FIXTURE_DIR, type FixtureLabel } from "../helpers/shapes-fixture.js";

test("the classifier fixture's PNGs are the generated ones and labels.json is what classifyColour/classifyShape say", () => {
  const labels = JSON.parse(readFileSync(join(SHAPES_FIXTURE_DIR, "labels.json"), "utf8")) as FixtureLabel[];
  const images = fixtureImages();
  assert.equal(labels.length, images.length);
  images.forEach((image, i) => {
    const png = readFileSync(join(SHAPES_FIXTURE_DIR, `${i}.png`));
    assert.deepEqual(decodePng(png).rgb, image.rgb, `${i}.png is not the generated image`);
    assert.deepEqual(labelOf(`${i}.png`, decodePng(png)), labels[i]);
  });
  // The fixture covers every answer, including none.
  assert.ok(new Set(labels.map((l) => l.shape)).size === 4 && labels.some((l) => l.colour === null));
  assert.ok(new Set(labels.map((l) => l.colour)).size >= 8);
});
