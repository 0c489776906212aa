/**
 * A line chart as a standalone SVG string: axes with tick labels, light grid, one line per series and an optional
 * band around it (mean ± std). Non-finite values break the line instead of bending it to 0; a chart with nothing
 * finite to draw says so. Pure: the same input gives the same markup.
 */
import { escapeHtml } from "./escape.js";
import { finiteDomain, formatTick, linearScale, niceAxis } from "./scale.js";

export interface ChartPoint {
  x: number;
  y: number;
  /** The band's bottom and top at x (both needed to draw it). */
  lo?: number;
  hi?: number;
}

export interface Series {
  label: string;
  /** A CSS colour for the line; the band is the same colour, translucent. */
  color: string;
  points: readonly ChartPoint[];
  /** Legend text for the band; no band is drawn without it. */
  bandLabel?: string;
}

export interface LineChart {
  /** Names the chart in the page (`data-chart`); letters, digits and dashes. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Whole-number x ticks (optimizer steps). */
  integerX?: boolean;
}

const WIDTH = 720;
const HEIGHT = 280;
const MARGIN = { top: 30, right: 20, bottom: 44, left: 64 };
/** Half the width of the band drawn around a lone point, in pixels, so it shows. */
const LONE_BAND_HALF_WIDTH = 3;

const num = (v: number) => String(Math.round(v * 100) / 100);
const finite = (...vs: (number | undefined)[]) => vs.every((v) => v !== undefined && Number.isFinite(v));

/** Runs of consecutive points for which `keep` holds: a value that fails it ends one run. */
function runs(points: readonly ChartPoint[], keep: (p: ChartPoint) => boolean): ChartPoint[][] {
  const out: ChartPoint[][] = [[]];
  for (const p of points) {
    if (keep(p)) out[out.length - 1]!.push(p);
    else if (out[out.length - 1]!.length) out.push([]);
  }
  return out.filter((r) => r.length);
}

export function lineChartSvg(chart: LineChart): string {
  const plot = { left: MARGIN.left, right: WIDTH - MARGIN.right, top: MARGIN.top, bottom: HEIGHT - MARGIN.bottom };
  const points = chart.series.flatMap((s) => s.points.filter((p) => finite(p.x, p.y)));
  const bands = chart.series.flatMap((s) => (s.bandLabel ? s.points.filter((p) => finite(p.x, p.lo, p.hi)) : []));
  const xDomain = finiteDomain([...points, ...bands].map((p) => p.x), chart.integerX);
  const yDomain = finiteDomain([...points.map((p) => p.y), ...bands.flatMap((p) => [p.lo!, p.hi!])]);
  const skipped = chart.series.reduce((n, s) => n + s.points.filter((p) => !finite(p.x, p.y)).length, 0);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="${escapeHtml(chart.id)}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      `width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeHtml(chart.title)}</title>`,
    `<rect x="${plot.left}" y="${plot.top}" width="${plot.right - plot.left}" height="${plot.bottom - plot.top}" fill="#fff" stroke="#ccc"/>`,
  ];
  if (!xDomain || !yDomain) {
    const message = skipped ? `no finite values to plot (${skipped} non-finite)` : "no data";
    parts.push(`<text class="empty" x="${(plot.left + plot.right) / 2}" y="${(plot.top + plot.bottom) / 2}" text-anchor="middle" fill="#888">${message}</text>`);
  } else {
    const xAxis = niceAxis(xDomain, 8, chart.integerX);
    const yAxis = niceAxis(yDomain, 5);
    const sx = linearScale(xAxis.domain, plot.left, plot.right);
    const sy = linearScale(yAxis.domain, plot.bottom, plot.top);
    for (const t of yAxis.ticks) {
      const y = num(sy(t));
      parts.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${y}" y2="${y}" stroke="#eee"/>`);
      parts.push(`<text class="tick y" x="${plot.left - 6}" y="${y}" dy="0.32em" text-anchor="end" fill="#444">${formatTick(t, yAxis.step)}</text>`);
    }
    for (const t of xAxis.ticks) {
      const x = num(sx(t));
      parts.push(`<line x1="${x}" x2="${x}" y1="${plot.bottom}" y2="${plot.bottom + 5}" stroke="#444"/>`);
      parts.push(`<text class="tick x" x="${x}" y="${plot.bottom + 17}" text-anchor="middle" fill="#444">${formatTick(t, xAxis.step)}</text>`);
    }
    for (const s of chart.series) {
      if (s.bandLabel) parts.push(bandPath(s, sx, sy));
      parts.push(linePath(s, sx, sy));
    }
  }
  parts.push(`<line x1="${plot.left}" x2="${plot.right}" y1="${plot.bottom}" y2="${plot.bottom}" stroke="#444"/>`);
  parts.push(`<line x1="${plot.left}" x2="${plot.left}" y1="${plot.top}" y2="${plot.bottom}" stroke="#444"/>`);
  parts.push(`<text class="axis-label" x="${(plot.left + plot.right) / 2}" y="${HEIGHT - 8}" text-anchor="middle" fill="#222">${escapeHtml(chart.xLabel)}</text>`);
  const yMid = (plot.top + plot.bottom) / 2;
  parts.push(`<text class="axis-label" transform="translate(16 ${yMid}) rotate(-90)" text-anchor="middle" fill="#222">${escapeHtml(chart.yLabel)}</text>`);
  parts.push(legend(chart.series, plot.left));
  if (skipped && xDomain && yDomain) {
    parts.push(`<text class="note" x="${plot.right}" y="${HEIGHT - 8}" text-anchor="end" fill="#b45309">${skipped} non-finite value${skipped === 1 ? "" : "s"} not drawn</text>`);
  }
  parts.push("</svg>");
  return parts.join("\n");
}

type Scale = (v: number) => number;

/** One path for the whole series; a lone point is a zero-length segment that the round cap draws as a dot. */
function linePath(s: Series, sx: Scale, sy: Scale): string {
  const d = runs(s.points, (p) => finite(p.x, p.y))
    .map((run) => {
      const [first, ...rest] = run.map((p) => `${num(sx(p.x))} ${num(sy(p.y))}`);
      return `M${first}` + (rest.length ? ` L${rest.join(" L")}` : " h0");
    })
    .join(" ");
  return `<path class="line" d="${d}" fill="none" stroke="${escapeHtml(s.color)}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`;
}

/** The band as closed shapes: along the tops left to right, back along the bottoms. */
function bandPath(s: Series, sx: Scale, sy: Scale): string {
  const d = runs(s.points, (p) => finite(p.x, p.lo, p.hi))
    .map((run) => {
      if (run.length === 1) {
        const p = run[0]!;
        const [x0, x1] = [sx(p.x) - LONE_BAND_HALF_WIDTH, sx(p.x) + LONE_BAND_HALF_WIDTH];
        return `M${num(x0)} ${num(sy(p.hi!))} H${num(x1)} V${num(sy(p.lo!))} H${num(x0)} Z`;
      }
      const top = run.map((p) => `${num(sx(p.x))} ${num(sy(p.hi!))}`);
      const bottom = run.map((p) => `${num(sx(p.x))} ${num(sy(p.lo!))}`).reverse();
      return `M${top.join(" L")} L${bottom.join(" L")} Z`;
    })
    .join(" ");
  return `<path class="band" d="${d}" fill="${escapeHtml(s.color)}" fill-opacity="0.18" stroke="none"/>`;
}

function legend(series: readonly Series[], left: number): string {
  const items: string[] = [];
  let x = left;
  for (const s of series) {
    const color = escapeHtml(s.color);
    items.push(`<line x1="${x}" x2="${x + 18}" y1="12" y2="12" stroke="${color}" stroke-width="2"/>`);
    items.push(`<text x="${x + 23}" y="12" dy="0.32em" fill="#222">${escapeHtml(s.label)}</text>`);
    x += 30 + 6.5 * s.label.length;
    if (s.bandLabel) {
      items.push(`<rect x="${x}" y="6" width="18" height="12" fill="${color}" fill-opacity="0.18"/>`);
      items.push(`<text x="${x + 23}" y="12" dy="0.32em" fill="#222">${escapeHtml(s.bandLabel)}</text>`);
      x += 30 + 6.5 * s.bandLabel.length;
    }
  }
  return `<g class="legend">${items.join("")}</g>`;
}
