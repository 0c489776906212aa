"""Runs the torch engine's AlignProp job outside the trainer process, for `alignprop bench` and the cross-engine
reward-rise test: the twin of src/bench/run-job.ts, on the same job the trainer builds (build.py, AlignProp.step).

    python -m alignprop_torch.run_steps --steps N [--threads T] < config.json

reads the run config the TS CLI resolved on stdin, trains N optimizer steps on the CPU (or the GPU when there is one)
and prints one JSON line: every step's record in run-job.ts's camelCase (`samples`, `seconds`, `stepSeconds`,
`rewardMean`, `rewardMax`, `loss`), the job's description, the process's peak RSS, and the torch version, threads and
device it ran with.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch

from .build import build_alignprop
from .config import AlignPropConfig


@dataclass(frozen=True)
class StepRecord:
    samples: int
    seconds: float
    # run-job.ts's field names.
    stepSeconds: float
    rewardMean: float
    rewardMax: float
    loss: float


def run_steps(config: AlignPropConfig, steps: int, device: torch.device) -> dict[str, Any]:
    job = build_alignprop(config, device)
    records: list[StepRecord] = []
    samples = 0
    started = time.perf_counter()
    for _ in range(steps):
        t0 = time.perf_counter()
        r = job.step()
        now = time.perf_counter()
        samples += len(r.rewards)
        mean = sum(r.rewards) / len(r.rewards)
        records.append(StepRecord(samples, now - started, now - t0, mean, max(r.rewards), r.loss))
    lora = f"LoRA r={config.lora_rank}, {sum(p.numel() for p in job.params)} params"
    return {
        "description": f"AlignProp on {config.model} ({lora}; reward {job.reward.name})",
        "steps": [asdict(r) for r in records],
        "peakRssMb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "torch": {"version": torch.__version__, "threads": torch.get_num_threads(), "device": str(device)},
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m alignprop_torch.run_steps", description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, required=True, help="optimizer steps to train")
    parser.add_argument("--threads", type=int, default=None, help="torch's intra-op threads (default: torch's own)")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps={args.steps} must be at least 1")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads={args.threads} must be at least 1")
        torch.set_num_threads(args.threads)
    config = AlignPropConfig.from_dict(json.load(sys.stdin))
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(json.dumps(run_steps(config, args.steps, device)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
