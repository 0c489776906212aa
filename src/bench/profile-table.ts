/** A profile (profile.ts) as the plain-text tables `alignprop bench --profile` prints. */
import { graphRow, type Profile } from "./profile.js";

const ms = (v: number) => v.toFixed(1);
const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(1)}%`;

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The parts table, then the `top` slowest kernels, then the totals. */
export function formatProfile(p: Profile, top = 20): string {
  const parts = table(
    ["part", "calls", "ms", "share", "ops", "in kernels ms"],
    p.parts.map((r) => [r.part, String(r.calls), ms(r.ms), pct(r.ms, p.step_ms), String(r.ops), ms(r.kernel_ms)]),
  );
  const kernels = table(
    ["kernel", "calls", "ms", "share", "µs/call"],
    p.kernels.slice(0, top).map((k) => [k.kernel, String(k.calls), ms(k.ms), pct(k.ms, p.step_ms), ((1000 * k.ms) / k.calls).toFixed(0)]),
  );
  const rest = p.kernels.slice(top);
  const outside = p.step_ms - p.kernel_ms;
  const graphs = p.kernels
    .filter((k) => k.kernel.startsWith(graphRow("")))
    .reduce((sum, k) => ({ calls: sum.calls + k.calls, ms: sum.ms + k.ms }), { calls: 0, ms: 0 });
  return [
    `step ${ms(p.step_ms)} ms on ${p.backend}: ${p.ops} kernels dispatched (${graphs.calls} of them whole ORT graphs, ` +
      `${ms(graphs.ms)} ms), ${ms(p.kernel_ms)} ms inside them, ${ms(outside)} ms (${pct(outside, p.step_ms)}) outside ` +
      `(TF.js engine, tape, JavaScript)`,
    "",
    "by model part (self time)",
    parts,
    "",
    `by kernel (self time; top ${Math.min(top, p.kernels.length)} of ${p.kernels.length}` +
      (rest.length ? `, the other ${rest.length}: ${ms(rest.reduce((s, k) => s + k.ms, 0))} ms)` : ")"),
    kernels,
  ].join("\n");
}
