"""The GPU check (issue 15, item 7): AlignProp steps at SD1.5's size, timed, printed as one JSON object.

Builds Stable Diffusion v1.5's architecture from its published configs (sd15/*.config.json, copied from the SD1.5
reference facts) with random weights — nothing is downloaded — and the `aesthetic` reward's architecture: LAION's head
on a randomly initialised CLIP ViT-L/14 vision tower (sd15/clip_vision.config.json, openai/clip-vit-large-patch14's
vision sizes). Prompts are tokenised by tiny-shapes' tokenizer padded to SD's 77 tokens (the ids fit SD's vocabulary;
with random weights only the shapes matter). Then, for each case — precision fp16/bf16 × truncation K=1 / K=all ×
batch 1/2, 50 DDIM steps at 512², gradient checkpointing on, guidance 5, eta 1 — it runs warm-up steps and timed steps
of `AlignProp.step` and reports the median s/step, samples/s and peak GPU memory. Cases that would overrun
`--budget-s` are skipped and listed as such. Progress goes to stderr, the JSON to stdout.

`--smoke` runs the same code on the CPU with tiny-shapes' configs (random weights), fp32, 4 DDIM steps, in seconds.
`--gpus N` measures data-parallel scaling instead (alignprop_torch.gpu_scaling): samples/s of 1 and N processes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import torch
from transformers import CLIPTokenizer, CLIPVisionConfig, CLIPVisionModelWithProjection

from .alignprop import AlignProp
from .config import AlignPropConfig, MixedPrecision
from .lora import add_lora
from .pipeline import TINY_SHAPES, Components, build_pipeline
from .precision import Precision
from .prompts import animals
from .rewards.aesthetic import LAION_HEAD_WIDTHS, AestheticHead, aesthetic_reward

SD15 = Path(__file__).resolve().parent / "sd15"


@dataclass(frozen=True)
class Setup:
    """What differs between the GPU run and the CPU smoke run."""

    device: torch.device
    configs: dict[str, dict[str, Any]]
    vision: dict[str, Any]
    head_widths: tuple[int, ...]
    token_length: int
    steps: int
    precisions: tuple[MixedPrecision, ...]


def read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def sd15_setup() -> Setup:
    configs = {name: read(SD15 / f"{name}.config.json") for name in ("unet", "vae", "text_encoder", "scheduler")}
    return Setup(
        torch.device("cuda"),
        configs,
        read(SD15 / "clip_vision.config.json"),
        LAION_HEAD_WIDTHS,
        77,
        50,
        ("fp16", "bf16"),
    )


def smoke_setup() -> Setup:
    folders = {"unet": "unet/config.json", "vae": "vae/config.json", "text_encoder": "text_encoder/config.json"}
    configs = {name: read(TINY_SHAPES / path) for name, path in folders.items()}
    configs["scheduler"] = read(TINY_SHAPES / "scheduler" / "scheduler_config.json")
    clip = read(TINY_SHAPES / "clip" / "config.json")
    vision = {**clip["vision_config"], "projection_dim": clip["projection_dim"]}
    return Setup(torch.device("cpu"), configs, vision, (clip["projection_dim"], 32, 16, 8, 4, 1), 16, 4, ("no",))


def log(message: str) -> None:
    print(f"[gpu-check {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def build(setup: Setup, precision: Precision) -> tuple[Components, Any]:
    """The pipeline and the aesthetic reward with random weights, on the device, LoRA attached (TRL's: r=4, alpha=4)."""
    tokenizer = CLIPTokenizer.from_pretrained(TINY_SHAPES / "tokenizer", model_max_length=setup.token_length)
    torch.manual_seed(0)
    c = build_pipeline(setup.configs, tokenizer, setup.device).to(setup.device, precision.weight_dtype)
    add_lora(c.unet, 4, 4, ("to_q", "to_k", "to_v", "to_out.0"), seed=0)
    with torch.device(setup.device):
        vision = CLIPVisionModelWithProjection(CLIPVisionConfig(**setup.vision))
        head = AestheticHead(setup.head_widths)
    return c, aesthetic_reward(vision, head)


def run_case(
    c: Components, reward: Any, config: AlignPropConfig, precision: Precision, warmup: int, timed: int
) -> dict:
    job = AlignProp(c, config, reward, animals, precision)
    cuda = precision.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times, results = [], []
    for i in range(warmup + timed):
        start = time.perf_counter()
        results.append(job.step())
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    s_per_step = statistics.median(times)
    last = results[-1]
    return {
        "s_per_step": round(s_per_step, 4),
        "samples_per_s": round(config.train_batch_size / s_per_step, 4),
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None,
        "step_times_s": [round(t, 4) for t in times],
        "loss_finite": all(torch.isfinite(torch.tensor(r.loss)).item() for r in results),
        "grad_norm": last.grad_norm,
    }


def main(argv: list[str] | None = None) -> None:
    with stdout_to_stderr():
        report = measure(argv)
    print(json.dumps(report, indent=1))


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Libraries write notes to fd 1 (the Rust tokenizer's "Ignored unknown kwarg"); stdout carries only the JSON."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def measure(argv: list[str] | None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m alignprop_torch.gpu_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU, in seconds (a test runs it)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps per case (default 1)")
    parser.add_argument("--timed", type=int, default=2, help="timed steps per case; the median is reported (default 2)")
    parser.add_argument(
        "--budget-s", type=float, default=180, help="start no case after this many seconds (default 180)"
    )
    parser.add_argument(
        "--gpus", type=int, help="data-parallel scaling: samples/s of 1 and N processes under accelerate launch"
    )
    args = parser.parse_args(argv)
    if args.gpus is not None:
        from .gpu_scaling import scaling  # it builds on this module

        return scaling(args.gpus, args.smoke, args.warmup, args.timed)
    started = time.perf_counter()
    setup = smoke_setup() if args.smoke else sd15_setup()
    if setup.device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device is visible; run with --smoke for the CPU check")
    if setup.device.type == "cpu":
        torch.set_num_threads(1)
    report: dict[str, Any] = {
        "what": "AlignProp step, SD1.5 architecture (random weights) at 512x512"
        if not args.smoke
        else "AlignProp step, tiny-shapes architecture (random weights), CPU smoke run",
        "device": torch.cuda.get_device_name() if setup.device.type == "cuda" else platform.processor() or "cpu",
        "versions": {name: version(name) for name in ("torch", "diffusers", "transformers", "peft")},
        "python": platform.python_version(),
        "sample_num_steps": setup.steps,
        "settings": "gradient checkpointing on, guidance 5, eta 1, LoRA r=4 on to_q/to_k/to_v/to_out.0, reward: "
        + (
            "a small LAION-layout head on tiny-shapes' CLIP vision"
            if args.smoke
            else "LAION head on CLIP ViT-L/14 vision"
        )
        + " (random weights)",
        "warmup_steps": args.warmup,
        "timed_steps": args.timed,
        "cases": [],
    }
    base = AlignPropConfig(sample_num_steps=setup.steps, truncated_backprop_rand=False, gradient_checkpointing=True)
    for mixed in setup.precisions:
        precision = Precision.for_device(setup.device, mixed, allow_tf32=True)
        log(f"building the pipeline and reward ({mixed}) on {setup.device}")
        c, reward = build(setup, precision)
        for keep in (1, setup.steps):
            for batch in (1, 2):
                name = f"{mixed} K={keep} batch={batch}"
                case: dict[str, Any] = {"precision": mixed, "K": keep, "batch": batch}
                elapsed = time.perf_counter() - started
                if elapsed > args.budget_s:
                    log(f"{name}: skipped, {elapsed:.0f} s of the {args.budget_s:.0f} s budget used")
                    report["cases"].append({**case, "skipped": "time budget"})
                    continue
                config = replace(
                    base, mixed_precision=mixed, truncated_backprop_timestep=setup.steps - keep, train_batch_size=batch
                )
                log(f"{name}: {args.warmup} warm-up + {args.timed} timed steps")
                try:
                    case.update(run_case(c, reward, config, precision, args.warmup, args.timed))
                    log(f"{name}: {case['s_per_step']} s/step, peak {case['peak_gpu_memory_gib']} GiB")
                except Exception as error:  # one failing case (out of memory, say) still leaves the others' figures
                    traceback.print_exc(file=sys.stderr)
                    case["error"] = f"{type(error).__name__}: {error}"[:500]
                    if setup.device.type == "cuda":
                        torch.cuda.empty_cache()
                report["cases"].append(case)
        del c, reward
        if setup.device.type == "cuda":
            torch.cuda.empty_cache()
    report["total_s"] = round(time.perf_counter() - started, 1)
    return report


if __name__ == "__main__":
    main()
