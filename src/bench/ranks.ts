/**
 * `alignprop bench --ranks 1,2`: the whole job's samples/s for each number of processes, measured through the real
 * CLI (`alignprop train --ci --engine torch --num_processes N` on tiny-shapes, the ranks under `accelerate launch`):
 * the median of the trainer's Metrics.samples_per_second over the steps after the first. On a CPU host the ranks share
 * the cores (gloo), so more ranks show the overhead of the collectives, not a speed-up.
 */
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "../util/median.js";

const CLI = fileURLToPath(new URL("../cli/main.js", import.meta.url));

/** Small enough for a CPU: batch 1 a rank, 2 DDIM steps, backprop through the last. */
const TINY_FLAGS = ["--engine", "torch", "--model", "tiny-shapes", "--train_batch_size", "1", "--sample_num_steps", "2", "--truncated_backprop_timestep", "1", "--truncated_rand_backprop_minmax", "[0,2]"];

export interface RanksThroughput {
  processes: number;
  /** Steps measured (the first, warming up, is not). */
  steps: number;
  /** Median samples/s of the whole job. */
  samplesPerSecond: number;
}

/** The median samples/s of the Metrics events among `--ci` JSON lines, leaving out the first step's. */
export function medianThroughput(lines: readonly string[]): { steps: number; samplesPerSecond: number } {
  const speeds = lines
    .filter((line) => line.startsWith("{"))
    .map((line) => (JSON.parse(line) as { metrics?: { step?: number; samplesPerSecond?: number } }).metrics)
    .filter((m) => m !== undefined && (m.step ?? 0) > 1)
    .map((m) => m!.samplesPerSecond ?? 0);
  if (speeds.length === 0) throw new Error("the run reported no step after the first");
  return { steps: speeds.length, samplesPerSecond: median(speeds) };
}

/** Trains `steps` + 1 steps on each number of processes in turn; a run that fails throws with its stderr's end. */
export async function ranksThroughput(processes: readonly number[], steps: number, timeoutSeconds: number): Promise<RanksThroughput[]> {
  const runsDir = mkdtempSync(join(tmpdir(), "alignprop-bench-ranks-"));
  try {
    const results: RanksThroughput[] = [];
    for (const n of processes) {
      const args = ["train", "--ci", ...TINY_FLAGS, "--num_processes", String(n), "--num_epochs", String(steps + 1), "--save_freq", "100000", "--runs_dir", runsDir, "--run_name", `ranks-${n}`];
      const r = await execa(process.execPath, [CLI, ...args], { reject: false, stdin: "ignore", timeout: timeoutSeconds * 1000 });
      if (r.exitCode !== 0) {
        const tail = String(r.stderr).trim().split("\n").slice(-5).join("\n");
        throw new Error(`alignprop train on ${n} processes ${r.timedOut ? `still running after ${timeoutSeconds} s (--timeout)` : `exited ${r.exitCode}`}: ${tail}`);
      }
      results.push({ processes: n, ...medianThroughput(String(r.stdout).split("\n")) });
    }
    return results;
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
}
