"""Data-parallel AlignProp on 2 gloo ranks (distributed.py): the gradients are truly averaged. Two ranks of batch 2
train the same LoRA as one process of batch 4 on the same samples, and the ranks' LoRA are bit-identical after every
step (TRL's multi-GPU AlignProp trained a separate LoRA per GPU)."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import torch
from gloo_ranks import spawn_ranks
from torch_fixtures import CPU, cpu_config, tiny_shapes

from alignprop_torch.alignprop import AlignProp, MicroBatch
from alignprop_torch.build import build_alignprop
from alignprop_torch.distributed import join_ranks, rank_seed
from alignprop_torch.rewards.builtin import brightness

STEPS = 3
WORLD = 2
#: Adam divides by √v + ε: with TRL's ε = 1e-8 a gradient of ±1e-12 (summed in another order) moves a weight by ±lr,
#: so ε = 1 here keeps the update proportional to the gradient, and the comparison about the averaging.
CONFIG = cpu_config(train_batch_size=2, sample_eta=1.0, train_learning_rate=1.0, train_adam_epsilon=1.0, seed=7)


def lora(j: AlignProp) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in zip(j.lora_names, j.params, strict=True)}


def train_rank(rank: int, out: Path) -> None:
    ranks = join_ranks()
    j = build_alignprop(CONFIG, CPU, tiny_shapes(lora=False), brightness, ranks)
    history = [lora(j)]
    for _ in range(STEPS):
        j.step()
        history.append(lora(j))
    torch.save(history, out / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def same_samples_in_one_batch(j: AlignProp) -> None:
    """`j` (batch WORLD × 2) draws, each step, what the ranks draw together: rank r's batch from rank r's seed."""
    per_rank = copy.copy(j)
    per_rank.config = dataclasses.replace(j.config, train_batch_size=CONFIG.train_batch_size)
    generators = [torch.Generator().manual_seed(rank_seed(CONFIG.seed, r)) for r in range(WORLD)]

    def draw() -> MicroBatch:
        parts = []
        for generator in generators:
            per_rank.generator = generator
            parts.append(AlignProp.draw(per_rank))
        assert all(p.keep == parts[0].keep for p in parts)  # fixed truncation: one cut for the whole batch
        return MicroBatch(
            prompts=[prompt for p in parts for prompt in p.prompts],
            metadata=[m for p in parts for m in p.metadata],
            keep=parts[0].keep,
            x_t=torch.cat([p.x_t for p in parts]),
            noise=[torch.cat(step) for step in zip(*(p.noise for p in parts), strict=True)],
        )

    j.draw = draw


def test_two_ranks_of_batch_2_train_the_lora_of_one_process_of_batch_4_and_stay_bit_identical(tmp_path):
    spawn_ranks(train_rank, WORLD, tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]

    one = build_alignprop(
        dataclasses.replace(CONFIG, train_batch_size=WORLD * CONFIG.train_batch_size),
        CPU,
        tiny_shapes(lora=False),
        brightness,
    )
    same_samples_in_one_batch(one)
    for _ in range(STEPS):
        one.step()

    for step, (a, b) in enumerate(zip(*ranks, strict=True)):
        unequal = [name for name in a if not torch.equal(a[name], b[name])]
        assert not unequal, f"after step {step} the ranks' LoRA differ in {unequal[:3]}"
    initial, final, expected = ranks[0][0], ranks[0][-1], lora(one)
    assert any(not torch.equal(initial[n], final[n]) for n in final), "the LoRA did not train"
    worst = max(float((final[n] - expected[n]).abs().max()) for n in expected)
    moved = max(float((final[n] - initial[n]).abs().max()) for n in final)
    print(f"LoRA moved by up to {moved:.3g}; 2 ranks × batch 2 differ from 1 × batch 4 by up to {worst:.3g}")
    assert worst < 1e-5, f"2 ranks × batch 2 differ from 1 × batch 4 by {worst}"
