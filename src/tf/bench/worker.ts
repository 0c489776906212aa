/**
 * One bench task in a process of its own, so its peak RSS is its own: `node worker.js
 * <kernels|unet|unet-ops|alignprop-k1|alignprop-kall|alignprop-quickstart> <backend> <repeats>`. Prints one JSON line:
 * the backend chosen, the result (or why the backend is unavailable), peak RSS. `unet-ops` is the UNet step with
 * model calls as TF.js ops (ALIGNPROP_ORT_GRAPHS=0), the path traced graphs replaced.
 */
import { initBackend, type BackendName } from "../backend.js";
import { benchKernels } from "./kernels.js";
import { BENCH_SHAPES } from "./shapes.js";
import { benchUNetStep } from "./unet-step.js";
import { benchAlignPropStep, benchQuickstartStep } from "../../bench/alignprop-step.js";

export type BenchTask = "kernels" | "unet" | "unet-ops" | "alignprop-k1" | "alignprop-kall" | "alignprop-quickstart";

async function run(task: BenchTask, n: number, backend: string): Promise<object> {
  switch (task) {
    case "kernels":
      return benchKernels(BENCH_SHAPES.conv, BENCH_SHAPES.matmul, n);
    case "unet":
      return { unet_step: benchUNetStep(BENCH_SHAPES.unet, n) };
    case "unet-ops":
      process.env.ALIGNPROP_ORT_GRAPHS = "0";
      return { unet_step_ops: benchUNetStep(BENCH_SHAPES.unet, n) };
    case "alignprop-k1":
    case "alignprop-kall":
      return benchAlignPropStep(task === "alignprop-k1" ? "k1" : "kall", n);
    case "alignprop-quickstart":
      return benchQuickstartStep(n, backend);
  }
  throw new Error(`unknown bench task ${JSON.stringify(task)}`);
}

async function main([task, backend, repeats]: string[]): Promise<unknown> {
  let chosen: string;
  try {
    chosen = (await initBackend(backend as BackendName, {})).backend;
  } catch (err) {
    return { unavailable: (err as Error).message };
  }
  const result = await run(task as BenchTask, Number(repeats), chosen);
  return { ...result, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

main(process.argv.slice(2)).then(
  (out) => process.stdout.write(`\n${JSON.stringify(out)}\n`),
  (err) => process.stdout.write(`\n${JSON.stringify({ failed: (err as Error).stack ?? String(err) })}\n`),
);
