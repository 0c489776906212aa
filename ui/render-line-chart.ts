/**
 * A pure text line chart: one series over x with an optional band (drawn as ░ behind the • line), y-axis max/min
 * labels on the left and the first/last x below. Points are bucketed per column (many points) and linearly
 * interpolated between columns (few points); non-finite values are skipped, never plotted or used for the range.
 */
import { formatNumber } from "./format.js";

export interface ChartPoint {
  x: number;
  y: number;
  /** Lower and upper edge of the band at x (e.g. mean ± std). */
  band?: readonly [number, number];
}

export interface ChartSize {
  width: number;
  height: number;
}

const LINE = "•";
const BAND = "░";
/** Below this the chart shows only its title. */
const MIN_WIDTH = 12;
const MIN_HEIGHT = 3;

interface Column {
  y: number;
  lo: number;
  hi: number;
}

/** Exactly `size.height` lines, each exactly `size.width` characters wide. */
export function renderLineChart(title: string, points: readonly ChartPoint[], size: ChartSize): string[] {
  const width = Math.max(0, Math.floor(size.width));
  const height = Math.max(0, Math.floor(size.height));
  const finite = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const last = finite.at(-1);
  const heading = last ? `${title}  ${formatNumber(last.y)}` : title;
  if (height === 0) return [];
  if (width < MIN_WIDTH || height < MIN_HEIGHT) return [fit(heading, width), ...blank(height - 1, width)];

  const plotRows = height - 2;
  if (finite.length === 0) {
    const middle = Math.floor((plotRows - 1) / 2);
    const note = fit(center("no data yet", width), width);
    const rows = blank(plotRows, width).map((row, r) => (r === middle ? note : row));
    return [fit(heading, width), ...rows, " ".repeat(width)];
  }

  const [yMin, yMax] = yRange(finite);
  const maxLabel = formatNumber(yMax);
  const minLabel = formatNumber(yMin);
  const labelWidth = Math.max(maxLabel.length, minLabel.length);
  const plotWidth = width - labelWidth - 1;
  const columns = toColumns(finite, plotWidth);
  const rowOf = (y: number): number =>
    Math.min(plotRows - 1, Math.max(0, Math.round(((yMax - y) / (yMax - yMin)) * (plotRows - 1))));

  const grid = Array.from({ length: plotRows }, () => Array<string>(plotWidth).fill(" "));
  columns.forEach((column, c) => {
    if (!column) return;
    for (let r = rowOf(column.hi); r <= rowOf(column.lo); r++) grid[r]![c] = BAND;
    grid[rowOf(column.y)]![c] = LINE;
  });

  const plot = grid.map((cells, r) => {
    const label = r === 0 ? maxLabel : r === plotRows - 1 ? minLabel : "";
    return fit(`${label.padStart(labelWidth)}${label ? "┤" : "│"}${cells.join("")}`, width);
  });
  return [fit(heading, width), ...plot, fit(" ".repeat(labelWidth + 1) + xAxis(finite, plotWidth), width)];
}

/** The y range covering every finite value and band edge; a flat series gets a small margin so it has height. */
function yRange(points: readonly ChartPoint[]): [number, number] {
  const values = points.flatMap((p) => [p.y, ...finiteBand(p)]);
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (max > min) return [min, max];
  const margin = min === 0 ? 1 : Math.abs(min) * 0.1;
  return [min - margin, max + margin];
}

/** One entry per plot column: the mean of the points (and band edges) falling in it, gaps interpolated. */
function toColumns(points: readonly ChartPoint[], plotWidth: number): (Column | undefined)[] {
  const xs = points.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const columnOf = (x: number): number =>
    xMax === xMin ? Math.floor((plotWidth - 1) / 2) : Math.round(((x - xMin) / (xMax - xMin)) * (plotWidth - 1));

  const sums = Array.from({ length: plotWidth }, () => ({ y: 0, lo: 0, hi: 0, n: 0 }));
  for (const p of points) {
    const sum = sums[columnOf(p.x)]!;
    const [a, b] = finiteBand(p);
    sum.y += p.y;
    sum.lo += Math.min(a, b);
    sum.hi += Math.max(a, b);
    sum.n += 1;
  }
  const columns: (Column | undefined)[] = sums.map((s) =>
    s.n > 0 ? { y: s.y / s.n, lo: s.lo / s.n, hi: s.hi / s.n } : undefined,
  );

  let previous = -1;
  columns.forEach((column, c) => {
    if (!column) return;
    const from = columns[previous];
    for (let gap = previous + 1; from && gap < c; gap++) {
      columns[gap] = lerp(from, column, (gap - previous) / (c - previous));
    }
    previous = c;
  });
  return columns;
}

/** The band's edges, or the point itself when the band is missing or not finite. */
function finiteBand(p: ChartPoint): readonly [number, number] {
  return p.band && p.band.every(Number.isFinite) ? p.band : [p.y, p.y];
}

function lerp(a: Column, b: Column, t: number): Column {
  return { y: a.y + (b.y - a.y) * t, lo: a.lo + (b.lo - a.lo) * t, hi: a.hi + (b.hi - a.hi) * t };
}

function xAxis(points: readonly ChartPoint[], plotWidth: number): string {
  const xs = points.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const first = `step ${xMin}`;
  const last = String(xMax);
  if (xMax === xMin || first.length + last.length + 1 > plotWidth) return first;
  return first + last.padStart(plotWidth - first.length);
}

function center(text: string, width: number): string {
  return " ".repeat(Math.max(0, Math.floor((width - text.length) / 2))) + text;
}

function fit(text: string, width: number): string {
  return text.length > width ? text.slice(0, width) : text.padEnd(width);
}

function blank(count: number, width: number): string[] {
  return Array.from({ length: Math.max(0, count) }, () => " ".repeat(width));
}
