/** The SVG line chart: axes and ticks, lines broken at non-finite values, the band, empty charts, escaping. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { lineChartSvg, type ChartPoint, type LineChart } from "../../src/report/index.js";
import { formatTick, niceAxis } from "../../src/report/scale.js";

const chart = (points: ChartPoint[], extra: Partial<LineChart> = {}): string =>
  lineChartSvg({ id: "reward", title: "Reward", xLabel: "step", yLabel: "reward", integerX: true, series: [{ label: "mean", color: "#2563eb", points }], ...extra });
const lineD = (svg: string) => /<path class="line" d="([^"]*)"/.exec(svg)?.[1];
const bandD = (svg: string) => /<path class="band" d="([^"]*)"/.exec(svg)?.[1];
const ticks = (svg: string, axis: "x" | "y") => [...svg.matchAll(new RegExp(`<text class="tick ${axis}"[^>]*>([^<]*)</text>`, "g"))].map((m) => m[1]);

test("many points make one line with a labelled tick at each round value", () => {
  const svg = chart(Array.from({ length: 20 }, (_, i) => ({ x: i + 1, y: 0.5 + i / 100 })));
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" class="chart" data-chart="reward"/);
  assert.equal(lineD(svg)!.match(/M/g)!.length, 1);
  assert.equal(lineD(svg)!.match(/L/g)!.length, 19);
  assert.deepEqual(ticks(svg, "x"), ["0", "5", "10", "15", "20"]);
  assert.deepEqual(ticks(svg, "y"), ["0.50", "0.55", "0.60", "0.65", "0.70"]);
  assert.match(svg, /class="axis-label"[^>]*>step</);
});

test("a single point is drawn as a dot in the middle of a widened axis", () => {
  const svg = chart([{ x: 5, y: 0.7 }]);
  assert.match(lineD(svg)!, /^M[\d.]+ [\d.]+ h0$/);
  assert.deepEqual(ticks(svg, "x"), ["4", "5", "6"]);
  assert.ok(ticks(svg, "y").includes("0.70"), ticks(svg, "y").join());
});

test("a flat line of zeros still gets a y axis", () => {
  const svg = chart([{ x: 1, y: 0 }, { x: 2, y: 0 }]);
  assert.deepEqual(ticks(svg, "y"), ["-1.0", "-0.5", "0.0", "0.5", "1.0"]);
});

test("no points gives axes and a 'no data' message but no path", () => {
  const svg = chart([]);
  assert.match(svg, /<text class="empty"[^>]*>no data</);
  assert.doesNotMatch(svg, /<path/);
});

test("a NaN breaks the line in two, is not drawn, and is counted in a note", () => {
  const svg = chart([{ x: 1, y: 1 }, { x: 2, y: 2 }, { x: 3, y: NaN }, { x: 4, y: 3 }, { x: 5, y: 4 }]);
  assert.equal(lineD(svg)!.match(/M/g)!.length, 2);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  assert.match(svg, /<text class="note"[^>]*>1 non-finite value not drawn</);
});

test("only non-finite values says so instead of drawing", () => {
  const svg = chart([{ x: 1, y: NaN }, { x: 2, y: Infinity }]);
  assert.match(svg, /no finite values to plot \(2 non-finite\)/);
  assert.doesNotMatch(svg, /<path/);
});

test("the band is a closed shape along the tops and back along the bottoms, and widens the y axis", () => {
  const points = [{ x: 1, y: 1, lo: 0, hi: 2 }, { x: 2, y: 1, lo: 0, hi: 2 }, { x: 3, y: 1, lo: 0, hi: 2 }];
  const svg = lineChartSvg({ id: "r", title: "R", xLabel: "step", yLabel: "r", series: [{ label: "mean", color: "#00f", points, bandLabel: "± std" }] });
  const d = bandD(svg)!;
  assert.match(d, /^M[^MZ]+Z$/);
  const ys = [...d.matchAll(/([\d.]+) ([\d.]+)/g)].map((m) => Number(m[2]));
  assert.deepEqual(ys.slice(0, 3), [ys[0], ys[0], ys[0]]);
  assert.ok(ys[3]! > ys[0]!, "the return edge is lower on screen than the top edge");
  assert.deepEqual(ticks(svg, "y"), ["0.0", "0.5", "1.0", "1.5", "2.0"]);
  assert.match(svg, /<g class="legend">.*± std/);
  assert.equal(bandD(chart(points)), undefined, "no band without a band label");
});

test("a NaN std breaks the band but not the line", () => {
  const points = [{ x: 1, y: 1, lo: 0, hi: 2 }, { x: 2, y: 1, lo: NaN, hi: NaN }, { x: 3, y: 1, lo: 0, hi: 2 }];
  const svg = lineChartSvg({ id: "r", title: "R", xLabel: "s", yLabel: "r", series: [{ label: "m", color: "#00f", points, bandLabel: "b" }] });
  assert.equal(bandD(svg)!.match(/M/g)!.length, 2, "two lone-point bands");
  assert.equal(lineD(svg)!.match(/M/g)!.length, 1);
});

test("labels, titles and colours are escaped", () => {
  const svg = lineChartSvg({ id: "x", title: `<b>"t"</b>`, xLabel: "a&b", yLabel: "<y>", series: [{ label: "<s>", color: `red"/><script>`, points: [{ x: 1, y: 1 }] }] });
  assert.doesNotMatch(svg, /<b>|<script>|<s>|<y>/);
  assert.match(svg, /&lt;b&gt;&quot;t&quot;&lt;\/b&gt;/);
  assert.match(svg, />a&amp;b</);
});

test("nice axes step by 1, 2 or 5 times a power of ten and cover the domain", () => {
  assert.deepEqual(niceAxis({ min: 0.13, max: 0.87 }, 5), { domain: { min: 0, max: 1 }, ticks: [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1], step: 0.2 });
  assert.deepEqual(niceAxis({ min: 1, max: 3 }, 8, true).ticks, [1, 2, 3], "no fractional steps");
  assert.equal(formatTick(0.6000000000000001, 0.2), "0.6");
  assert.equal(formatTick(0.1 - 0.2 + 0.1 - 1e-17, 0.5), "0.0", "no minus sign on a rounded zero");
  assert.equal(formatTick(2e7, 5e6), "2.0e+7");
});
