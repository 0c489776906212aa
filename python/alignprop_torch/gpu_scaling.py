"""The GPU check's scaling mode (`scripts/gpu-check.sh --gpus N`, issue 17): the GPU check's AlignProp step (SD1.5's
architecture, random weights, 50 DDIM steps at 512², K=1, batch 2 per process, bf16, gradient checkpointing) run
data-parallel, once as one process and once under `accelerate launch --multi_gpu --num_processes N` (NCCL on GPUs,
gloo on the CPU with `--smoke`'s tiny shapes), each rank through alignprop_torch.distributed as the trainer's ranks.
Prints one JSON object: the job's samples/s for 1 and N processes, the scaling ratio (N's over 1's) and its
efficiency (ratio / N). Each rank times its steps between two collectives; rank 0 reports the median and whether the
ranks' LoRA stayed equal.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any

import torch

from .alignprop import AlignProp
from .config import AlignPropConfig
from .distributed import join_ranks
from .gpu_check import build, log, sd15_setup, smoke_setup, stdout_to_stderr
from .precision import Precision
from .prompts import animals

#: Samples per process per step (the GPU check's larger batch).
BATCH = 2


def launch(processes: int, smoke: bool, warmup: int, timed: int) -> dict[str, Any]:
    """One measurement: `processes` ranks (one plain process for 1), rank 0's JSON line back."""
    rank = [sys.executable, "-m", __name__, "--rank", "--warmup", str(warmup), "--timed", str(timed)]
    rank += ["--smoke"] if smoke else []
    command = rank
    if processes > 1:
        # accelerate's launcher as src/python/torch-trainer.ts starts the trainer's ranks, on a free port.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        accelerate = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes"]
        accelerate += [str(processes), "--main_process_port", str(port), "--mixed_precision", "no"]
        command = [*accelerate, "--dynamo_backend", "no", *rank[1:]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"} if smoke else None
    log(f"{processes} process(es): {' '.join(command)}")
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"gpu_check --gpus: the run of {processes} process(es) exited with {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scaling(gpus: int, smoke: bool, warmup: int, timed: int) -> dict[str, Any]:
    if gpus < 2:
        raise SystemExit(f"gpu_check: --gpus must be at least 2, got {gpus}")
    if not smoke and torch.cuda.device_count() < gpus:
        raise SystemExit(f"gpu_check: --gpus {gpus} but {torch.cuda.device_count()} CUDA devices are visible")
    runs = [launch(n, smoke, warmup, timed) for n in (1, gpus)]
    ratio = runs[1]["samples_per_s"] / runs[0]["samples_per_s"]
    return {
        "what": "data-parallel AlignProp step, "
        + ("tiny-shapes architecture on the CPU (gloo)" if smoke else "SD1.5 architecture at 512x512 (NCCL)"),
        "device": runs[0]["device"],
        "batch_per_process": BATCH,
        "runs": runs,
        "scaling": round(ratio, 3),
        "efficiency": round(ratio / gpus, 3),
    }


def rank_run(smoke: bool, warmup: int, timed: int) -> dict[str, Any]:
    """This rank's part: the GPU check's pipeline and reward on its device, `warmup` + `timed` job steps."""
    ranks = join_ranks()
    setup = smoke_setup() if smoke else sd15_setup()
    setup = replace(setup, device=torch.device("cpu") if smoke else ranks.device())
    if smoke:
        torch.set_num_threads(1)
    mixed = setup.precisions[-1]
    precision = Precision.for_device(setup.device, mixed, allow_tf32=True)
    c, reward = build(setup, precision)
    config = AlignPropConfig(
        sample_num_steps=setup.steps,
        truncated_backprop_rand=False,
        truncated_backprop_timestep=setup.steps - 1,
        gradient_checkpointing=True,
        mixed_precision=mixed,
        train_batch_size=BATCH,
    )
    job = AlignProp(c, config, reward, animals, precision)
    if ranks.world_size > 1:
        job.data_parallel(ranks)
    cuda = setup.device.type == "cuda"
    times = []
    for i in range(warmup + timed):
        ranks.share(None)  # every rank starts the step together
        start = time.perf_counter()
        job.step()
        ranks.share(None)  # and the step is the job's once the slowest rank is done
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    s_per_step = statistics.median(times)
    lora = torch.cat([p.detach().reshape(-1).float().cpu() for p in job.params])
    return {
        "processes": ranks.world_size,
        "device": torch.cuda.get_device_name(setup.device) if cuda else "cpu",
        "s_per_step": round(s_per_step, 4),
        "samples_per_s": round(ranks.world_size * BATCH / s_per_step, 4),
        "step_times_s": [round(t, 4) for t in times],
        "lora_equal_across_ranks": len({hash(g.numpy().tobytes()) for g in ranks.gather(lora)}) == 1,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m alignprop_torch.gpu_scaling", description="one rank of gpu_check --gpus N"
    )
    parser.add_argument("--rank", action="store_true", required=True)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--timed", type=int, default=2)
    args = parser.parse_args(argv)
    with stdout_to_stderr():
        report = rank_run(args.smoke, args.warmup, args.timed)
    if int(os.environ.get("RANK", "0")) == 0:
        print(json.dumps(report))
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
