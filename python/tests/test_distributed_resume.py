"""Resuming a data-parallel job with the same world size continues exactly: 2 gloo ranks stopped after step N and
resumed from the checkpoint the trainer writes (every rank's generator, the optimizer, the LoRA) hold, at step M,
the LoRA of 2 ranks trained to M without a stop, bit for bit (the same ops on the same values in the same order)."""

from __future__ import annotations

from pathlib import Path

import torch
from gloo_ranks import spawn_ranks
from torch_fixtures import CPU, cpu_config, tiny_shapes

from alignprop_torch.build import build_alignprop
from alignprop_torch.distributed import Ranks, join_ranks
from alignprop_torch.rewards.builtin import brightness
from alignprop_torch.run_dir import checkpoint_dir
from alignprop_torch.run_dir_checkpoint import CheckpointState
from alignprop_torch.trainer.__main__ import TrainingJob

STOP, END = 1, 3
WORLD = 2
CONFIG = cpu_config(train_batch_size=1, sample_eta=1.0, seed=11)


def job(ranks: Ranks) -> TrainingJob:
    return TrainingJob(build_alignprop(CONFIG, CPU, tiny_shapes(lora=False), brightness, ranks), ranks=ranks)


def lora(j: TrainingJob) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in zip(j.trainer.lora_names, j.trainer.params, strict=True)}


def train(j: TrainingJob, steps: int) -> None:
    for _ in range(steps):
        j.trainer.step()


def train_rank(rank: int, out: Path) -> None:
    ranks = join_ranks()
    straight = job(ranks)
    train(straight, END)

    stopped = job(ranks)
    train(stopped, STOP)
    stopped.save(out / "run", CheckpointState(step=STOP, seq=0, run_id="resume"), CONFIG, limit=2)
    resumed = job(ranks)
    resumed.restore(out / "run" / checkpoint_dir(STOP), CONFIG.seed)
    train(resumed, END - STOP)

    torch.save({"straight": lora(straight), "resumed": lora(resumed)}, out / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def test_two_ranks_resumed_after_step_n_hold_at_step_m_the_lora_of_two_ranks_never_stopped(tmp_path):
    spawn_ranks(train_rank, WORLD, tmp_path)
    for rank in range(WORLD):
        saved = torch.load(tmp_path / f"rank{rank}.pt")
        straight, resumed = saved["straight"], saved["resumed"]
        unequal = [name for name in straight if not torch.equal(straight[name], resumed[name])]
        assert not unequal, f"rank {rank}: resumed LoRA differs at step {END} in {unequal[:3]}"
