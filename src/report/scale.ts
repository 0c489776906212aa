/** Chart axes: a padded domain over the finite values, "nice" tick values (1, 2, 5 × 10^k) and their labels. */

export interface Domain {
  min: number;
  max: number;
}

/**
 * The smallest and largest finite value, widened when they are equal (one point, or a flat line) so the point sits
 * mid-axis; undefined when nothing is finite.
 */
export function finiteDomain(values: Iterable<number>, integer = false): Domain | undefined {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return undefined;
  if (min === max) {
    const pad = integer ? 1 : Math.abs(min) * 0.1 || 1;
    return { min: min - pad, max: max + pad };
  }
  return { min, max };
}

export interface Axis {
  /** The domain widened out to the outermost ticks, so the plot box starts and ends on a labelled value. */
  domain: Domain;
  ticks: number[];
  /** Spacing between ticks. */
  step: number;
}

/** About `count` evenly spaced round ticks covering the domain; whole numbers only when `integer`. */
export function niceAxis(domain: Domain, count: number, integer = false): Axis {
  const raw = (domain.max - domain.min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  let step = (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(domain.min / step + 1e-9);
  const last = Math.ceil(domain.max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(i * step);
  return { domain: { min: first * step, max: last * step }, ticks, step };
}

/** A tick label with as many decimals as the spacing between ticks needs; exponent form for extreme magnitudes. */
export function formatTick(value: number, spacing: number): string {
  const size = Math.max(Math.abs(value), spacing);
  if (size >= 1e6 || (spacing > 0 && spacing < 1e-4)) return value.toExponential(1);
  const decimals = spacing > 0 ? Math.max(0, -Math.floor(Math.log10(spacing) + 1e-9)) : 0;
  const text = value.toFixed(decimals);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** Maps a domain onto a pixel range (which may run backwards, as y does on screen). */
export function linearScale(domain: Domain, from: number, to: number): (v: number) => number {
  const k = (to - from) / (domain.max - domain.min);
  return (v) => from + (v - domain.min) * k;
}
