"""`python -m alignprop_torch.bench_job [--seconds S] [--steps N] [--min-steps M] [--threads T] [--evaluate]` with a
resolved run config (JSON) on stdin: the torch engine's side of src/bench/run-job.ts (src/bench/run-torch-job.ts), for
`alignprop bench` and the cross-engine reward-rise test. Builds the job the config's `algorithm` names, steps it
until the budget is spent (as runJob does: after the step that crosses `--seconds`, but never before `--min-steps`;
or after `--steps`), and prints one JSON line per step in run-job.ts's camelCase, then `{"done": {...}}` with the
run's description, peak RSS and the torch version, threads and device it ran with. With `--evaluate` (and the
config's `eval_freq` above 0) it also runs the fixed eval set as the trainer does, at step 0, every `eval_freq` steps
and after the last, each pass a `{"eval": {...}}` line; the steps' seconds leave the passes out. No wire, no run
directory: a benchmark of the training step (and of what it learns) alone."""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any

import torch

from .build import build_for
from .config import DDPOConfig, run_config


class EvalPasses:
    """The run's eval set (alignprop_torch.eval) over the job's current weights, every `freq` steps."""

    def __init__(self, evaluator: Any, freq: int) -> None:
        self.evaluator, self.freq = evaluator, freq

    @classmethod
    def open(cls, raw: dict[str, Any], job: Any) -> EvalPasses | None:
        """None when the config evaluates nothing (eval_freq 0)."""
        from .eval.evaluator import Evaluator
        from .trainer.run_evaluation import EvalSettings

        s = EvalSettings.from_config(raw)
        if s.freq <= 0:
            return None
        return cls(Evaluator(job, job.reward, s.prompts, s.seeds, s.monitors, s.batch_size), s.freq)

    def run(self, step: int, samples: int, seconds: float) -> float:
        """One pass after `step` steps, printed as an `eval` line; returns the seconds it took."""
        t0 = time.perf_counter()
        monitors = self.evaluator.evaluate(step).monitors
        spent = time.perf_counter() - t0
        record = {"step": step, "samples": samples, "seconds": seconds, "monitors": monitors, "passSeconds": spent}
        print(json.dumps({"eval": record}), flush=True)
        return spent


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m alignprop_torch.bench_job")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--steps", type=int)
    parser.add_argument("--min-steps", type=int, default=0)
    parser.add_argument("--threads", type=int, help="torch's intra-op threads (default: torch's own)")
    parser.add_argument("--evaluate", action="store_true", help="run the eval set as the trainer does (eval_freq)")
    args = parser.parse_args()
    if args.seconds is None and args.steps is None:
        parser.error("give --seconds, --steps or both")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps={args.steps} must be at least 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads={args.threads} must be at least 1")
        torch.set_num_threads(args.threads)
    raw = json.loads(sys.stdin.read())
    config = run_config(raw)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    job = build_for(config, device)
    algorithm = "DDPO" if isinstance(config, DDPOConfig) else "AlignProp"
    passes = EvalPasses.open(raw, job) if args.evaluate else None
    started, samples, steps = time.perf_counter(), 0, 0
    if passes is not None:
        started += passes.run(0, 0, 0.0)
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
        last = (args.steps is not None and steps >= args.steps) or (
            args.seconds is not None and record["seconds"] >= args.seconds and steps >= args.min_steps
        )
        if passes is not None and (last or steps % passes.freq == 0):
            started += passes.run(steps, samples, record["seconds"])
        if last:
            break
    peak_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)  # KiB on Linux
    description = f"{algorithm} on {config.model} (reward {job.reward.name}; torch {torch.__version__} on {device})"
    versions = {"version": torch.__version__, "threads": torch.get_num_threads(), "device": str(device)}
    print(json.dumps({"done": {"description": description, "peakRssMb": peak_mb, "torch": versions}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
