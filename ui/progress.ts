/**
 * Start-up progress (downloading the model, loading weights and reward) as text: one line with amounts, rate and ETA,
 * and a bar. Shared by the dashboard and the headless reporter.
 */
import type { Progress } from "../src/gen/alignprop/v1/alignprop_pb.js";
import { formatBytes } from "../src/util/format-bytes.js";
import { formatDuration } from "./format.js";

/** Done / total in [0, 1]; undefined while the total is unknown. */
export function progressFraction(p: Progress): number | undefined {
  return p.total > 0 ? Math.min(1, Math.max(0, p.done / p.total)) : undefined;
}

/** Seconds left at the phase's rate so far; undefined while unknown. */
export function progressEtaSeconds(p: Progress): number | undefined {
  if (p.total <= 0 || p.rate <= 0) return undefined;
  return Math.max(0, p.total - p.done) / p.rate;
}

const amount = (value: number, unit: string) => (unit === "bytes" ? formatBytes(value) : `${Math.round(value)}`);

/**
 * "download unet/diffusion_pytorch_model.safetensors: 12.0 MiB / 40.0 MiB (1/5 files), 3.0 MiB/s, ETA 9s" or
 * "load vae: 1/4 components".
 */
export function progressText(p: Progress): string {
  const total = p.total > 0 ? ` / ${amount(p.total, p.unit)}` : "";
  const done = p.unit === "bytes" ? `${amount(p.done, p.unit)}${total}` : `${Math.round(p.done)}${p.total > 0 ? `/${Math.round(p.total)}` : ""} ${p.unit}`;
  const items = p.unit === "bytes" && p.itemsTotal > 0 ? ` (${p.itemsDone}/${p.itemsTotal} files)` : "";
  const rate = p.unit === "bytes" && p.rate > 0 ? `, ${formatBytes(p.rate)}/s` : "";
  const eta = progressEtaSeconds(p);
  const left = p.unit === "bytes" && eta !== undefined ? `, ETA ${formatDuration(eta)}` : "";
  return `${p.phase}${p.item ? ` ${p.item}` : ""}: ${done}${items}${rate}${left}`;
}

/** `[██████░░░░]`, `width` cells inside the brackets; all light while the total is unknown. */
export function progressBar(p: Progress, width: number): string {
  const cells = Math.max(1, width);
  const filled = Math.round((progressFraction(p) ?? 0) * cells);
  return `[${"█".repeat(filled)}${"░".repeat(cells - filled)}]`;
}
