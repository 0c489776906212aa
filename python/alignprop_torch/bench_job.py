"""`python -m alignprop_torch.bench_job [--seconds S] [--steps N] [--min-steps M] [--threads T]` with a resolved run
config (JSON) on stdin: the torch engine's side of src/bench/run-job.ts (src/bench/run-torch-job.ts), for `alignprop
bench` and the cross-engine reward-rise test. Builds the job the config's `algorithm` names, steps it
until the budget is spent (as runJob does: after the step that crosses `--seconds`, but never before `--min-steps`;
or after `--steps`), and prints one JSON line per step in run-job.ts's camelCase, then `{"done": {...}}` with the
run's description, peak RSS and the torch version, threads and device it ran with. No wire, no run directory: a
benchmark of the training step alone."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import torch

from .build import build_for
from .config import DDPOConfig, run_config


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m alignprop_torch.bench_job")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--min-steps", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch's intra-op threads (default: torch's own)")
    args = parser.parse_args()
    if args.seconds is None and args.steps is None:
        parser.error("give --seconds, --steps or both")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps={args.steps} must be at least 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads={args.threads} must be at least 1")
        torch.set_num_threads(args.threads)
    config = run_config(json.loads(sys.stdin.read()))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    job = build_for(config, device)
    algorithm = "DDPO" if isinstance(config, DDPOConfig) else "AlignProp"
    started, samples, steps = time.perf_counter(), 0, 0
    while True:
        t0 = time.perf_counter()
        result = job.step()
        now = time.perf_counter()
        samples, steps = samples + len(result.rewards), steps + 1
        record = {
            "samples": samples,
            "seconds": now - started,
            "stepSeconds": now - t0,
            "rewardMean": sum(result.rewards) / len(result.rewards),
            "rewardMax": max(result.rewards),
            "loss": result.loss,
        }
        print(json.dumps({"step": record}), flush=True)
        if args.steps is not None and steps >= args.steps:
            break
        if args.seconds is not None and record["seconds"] >= args.seconds and steps >= args.min_steps:
            break
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux
    description = f"{algorithm} on {config.model} (reward {job.reward.name}; torch {torch.__version__} on {device})"
    versions = {"version": torch.__version__, "threads": torch.get_num_threads(), "device": str(device)}
    print(json.dumps({"done": {"description": description, "peakRssMb": peak_mb, "torch": versions}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
