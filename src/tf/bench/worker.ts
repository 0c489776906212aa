/**
 * One bench task in a process of its own, so its peak RSS is its own: `node worker.js <kernels|unet|alignprop-k1|alignprop-kall> <backend>
 * <repeats>`. Prints one JSON line: the backend chosen, the result (or why the backend is unavailable), peak RSS.
 */
import { initBackend, type BackendName } from "../backend.js";
import { benchKernels } from "./kernels.js";
import { BENCH_SHAPES } from "./shapes.js";
import { benchUNetStep } from "./unet-step.js";
import { benchAlignPropStep } from "../../bench/alignprop-step.js";

export type BenchTask = "kernels" | "unet" | "alignprop-k1" | "alignprop-kall";

async function main([task, backend, repeats]: string[]): Promise<unknown> {
  try {
    await initBackend(backend as BackendName, {});
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
  const n = Number(repeats);
  const result =
    task === "kernels"
      ? benchKernels(BENCH_SHAPES.conv, BENCH_SHAPES.matmul, n)
      : task === "alignprop-k1" || task === "alignprop-kall"
        ? await benchAlignPropStep(task === "alignprop-k1" ? "k1" : "kall", n)
        : { unet_step: benchUNetStep(BENCH_SHAPES.unet, n) };
  return { ...result, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

main(process.argv.slice(2)).then(
  (out) => process.stdout.write(`\n${JSON.stringify(out)}\n`),
  (err) => process.stdout.write(`\n${JSON.stringify({ failed: (err as Error).stack ?? String(err) })}\n`),
);
