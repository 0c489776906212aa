import assert from "node:assert/strict";
import { test } from "node:test";
import { renderLineChart, type ChartPoint } from "../../ui/render-line-chart.js";

const size = { width: 30, height: 6 };

function assertExactSize(lines: string[], width: number, height: number): void {
  assert.equal(lines.length, height);
  for (const line of lines) assert.equal(line.length, width, JSON.stringify(line));
}

test("a chart without points says there is no data yet and keeps its size", () => {
  const lines = renderLineChart("reward", [], size);
  assertExactSize(lines, 30, 6);
  assert.equal(lines[0]?.trimEnd(), "reward");
  assert.ok(lines.some((line) => line.includes("no data yet")));
});

test("a chart with one point draws it mid-width, labels a range around it and names its step", () => {
  const lines = renderLineChart("reward", [{ x: 5, y: 0.5, band: [0.4, 0.6] }], size);
  assertExactSize(lines, 30, 6);
  assert.deepEqual(lines.map((line) => line.trimEnd()), [
    "reward  0.5",
    "0.6┤            ░",
    "   │            ░",
    "   │            •",
    "0.4┤            ░",
    "    step 5",
  ]);
});

test("a chart with many points spans the width, with max/min labels and the first and last step", () => {
  const points: ChartPoint[] = Array.from({ length: 200 }, (_, i) => ({ x: i + 1, y: i, band: [i - 10, i + 10] }));
  const lines = renderLineChart("reward", points, { width: 40, height: 8 });
  assertExactSize(lines, 40, 8);
  assert.ok(lines[1]?.startsWith("209┤"), lines[1]);
  assert.ok(lines[6]?.startsWith("-10┤"), lines[6]);
  assert.match(lines[7] ?? "", /^ +step 1 +200$/);
  const plotted = lines.slice(1, 7).map((line) => line.slice("209┤".length));
  for (let column = 0; column < 40 - "209┤".length; column++) {
    assert.ok(plotted.some((row) => row[column] === "•"), `column ${column} has a point`);
  }
  assert.ok(plotted.at(-1)?.startsWith("•"), "the rising line starts bottom left");
  assert.ok(plotted[0]?.trimEnd().endsWith("•"), "and ends top right");
});

test("NaN and infinite values are skipped, not plotted or used for the range", () => {
  const lines = renderLineChart("loss", [
    { x: 1, y: 1 },
    { x: 2, y: Number.NaN },
    { x: 3, y: Infinity, band: [-Infinity, Infinity] },
    { x: 4, y: 3, band: [Number.NaN, 4] },
  ], size);
  assertExactSize(lines, 30, 6);
  assert.ok(lines[1]?.startsWith("3┤"), lines[1]);
  assert.ok(lines[4]?.startsWith("1┤"), lines[4]);
  assert.ok(!lines.join("").includes("NaN") && !lines.join("").includes("Inf"));
});

test("only non-finite values render like no data", () => {
  const lines = renderLineChart("loss", [{ x: 1, y: Number.NaN }], size);
  assert.ok(lines.some((line) => line.includes("no data yet")));
});

test("a chart too small to plot shows only its title, still at the given size", () => {
  assertExactSize(renderLineChart("reward", [{ x: 1, y: 1 }], { width: 8, height: 2 }), 8, 2);
  assert.deepEqual(renderLineChart("reward", [], { width: 20, height: 0 }), []);
});
