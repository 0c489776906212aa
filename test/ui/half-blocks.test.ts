import assert from "node:assert/strict";
import { test } from "node:test";
import { decodePng, fitCells, halfBlockRows, resize } from "../../ui/half-blocks.js";
import { pngOf } from "./events.js";

const RED: [number, number, number] = [255, 0, 0];
const GREEN: [number, number, number] = [0, 255, 0];
const BLUE: [number, number, number] = [0, 0, 255];
const SLATE: [number, number, number] = [10, 20, 30];

test("a 2x2 PNG becomes one row of two half blocks, upper pixel as foreground and lower as background", () => {
  const image = decodePng(pngOf(2, 2, [RED, GREEN, BLUE, SLATE]));
  assert.ok(image);
  assert.deepEqual(halfBlockRows(image, 2, 1), [
    "\x1b[38;2;255;0;0m\x1b[48;2;0;0;255m▀\x1b[38;2;0;255;0m\x1b[48;2;10;20;30m▀\x1b[0m",
  ]);
});

test("downscaling averages each box of source pixels", () => {
  const image = decodePng(pngOf(2, 2, [RED, GREEN, BLUE, SLATE]));
  assert.ok(image);
  assert.deepEqual([...resize(image, 1, 1).data], [66, 69, 71, 255]);
  assert.deepEqual(halfBlockRows(image, 1, 1), ["\x1b[38;2;128;128;0m\x1b[48;2;5;10;143m▀\x1b[0m"]);
});

test("images are fitted into the cells available without upscaling or distorting them", () => {
  const image = decodePng(pngOf(64, 32, []));
  assert.ok(image);
  assert.deepEqual(fitCells(image, 100, 100), { columns: 64, rows: 16 });
  assert.deepEqual(fitCells(image, 32, 100), { columns: 32, rows: 8 });
  assert.deepEqual(fitCells(image, 100, 4), { columns: 16, rows: 4 });
});

test("empty or corrupt PNG bytes decode to nothing instead of throwing", () => {
  assert.equal(decodePng(new Uint8Array()), undefined);
  assert.equal(decodePng(new Uint8Array([1, 2, 3, 4])), undefined);
});
