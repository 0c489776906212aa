"""Data-parallel DDPO on 2 gloo ranks (distributed.py, ddpo.py): the advantages are TRL's, standardised over every
rank's rewards (gathered), not each rank's own. Each rank's advantages are those one process computes over the ranks'
batches together, the per-prompt stat tracker is the same on every rank, the ranks' LoRA are bit-identical after
every step, and 2 ranks of batch 2 train the LoRA one process of batch 4 trains on the same samples."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from gloo_ranks import spawn_ranks
from torch_fixtures import CPU, tiny_shapes

from alignprop_torch.build import build_job
from alignprop_torch.config import DDPOConfig
from alignprop_torch.ddpo import DDPO, Samples
from alignprop_torch.distributed import join_ranks
from alignprop_torch.rewards.builtin import brightness

STEPS = 3
WORLD = 2
#: One optimizer step an epoch (one minibatch, every timestep accumulated), so the order a process shuffles its
#: samples and timesteps in does not change the step; per-prompt tracking with a small min_count, so the advantages
#: use both the job's batch and the prompts' buffers. Adam's ε = 1, as in test_distributed_alignprop.py: with
#: TRL's 1e-8 a gradient of ±1e-12 (summed in another order) would move a weight by ±lr.
CONFIG = DDPOConfig(
    mixed_precision="no",
    sample_num_steps=3,
    sample_batch_size=2,
    sample_num_batches_per_epoch=1,
    train_batch_size=2,
    train_learning_rate=0.01,
    train_adam_epsilon=1.0,
    per_prompt_stat_tracking=True,
    per_prompt_stat_tracking_min_count=2,
    seed=7,
)


def lora(j: DDPO) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in zip(j.lora_names, j.params, strict=True)}


def record_epochs(j: DDPO, epochs: list[dict[str, Any]]) -> None:
    """Appends each epoch's samples and advantages to `epochs` as `j` trains on them."""
    train = j.train

    def recorded(s: Samples, advantages: torch.Tensor):
        fields = {k: getattr(s, k) for k in ("latents", "log_probs", "embeds", "prompts", "rewards")}
        epochs.append({**fields, "advantages": advantages.clone()})
        return train(s, advantages)

    j.train = recorded


def job(config: DDPOConfig, ranks=None) -> DDPO:
    return build_job(DDPO, config, CPU, tiny_shapes(lora=False), brightness, ranks)


def train_rank(rank: int, out: Path) -> None:
    j = job(CONFIG, join_ranks())
    epochs: list[dict[str, Any]] = []
    record_epochs(j, epochs)
    history = [lora(j)]
    for _ in range(STEPS):
        j.step()
        history.append(lora(j))
    torch.save({"lora": history, "epochs": epochs, "tracker": j.extra_state()}, out / f"rank{rank}.pt")
    torch.distributed.destroy_process_group()


def test_two_ranks_standardise_over_the_job_and_train_the_lora_of_one_process_of_batch_4(tmp_path):
    spawn_ranks(train_rank, WORLD, tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD)]

    # One process of batch 4 trains, each epoch, on what the ranks sampled together (rank order).
    batch = WORLD * CONFIG.sample_batch_size
    one = job(dataclasses.replace(CONFIG, sample_batch_size=batch, train_batch_size=batch))
    together = [[r["epochs"][step] for r in ranks] for step in range(STEPS)]
    drawn = iter(
        Samples(
            *(torch.cat([p[k] for p in parts]) for k in ("latents", "log_probs", "embeds")),
            [prompt for p in parts for prompt in p["prompts"]],
            [reward for p in parts for reward in p["rewards"]],
            None,
        )
        for parts in together
    )
    one.sample = lambda keep_images: next(drawn)
    epochs: list[dict[str, Any]] = []
    record_epochs(one, epochs)
    for _ in range(STEPS):
        one.step()

    prompts = [p for parts in together for e in parts for p in e["prompts"]]
    assert len(set(prompts)) < len(prompts), "no prompt came twice: the buffers were never used"
    for step, (parts, expected) in enumerate(zip(together, epochs, strict=True)):
        got = torch.cat([p["advantages"] for p in parts])
        assert torch.equal(got, expected["advantages"]), f"step {step}: {got.tolist()} ≠ {expected['advantages']}"
        assert got.abs().max() > 0
    trackers = [r["tracker"] for r in ranks]
    assert trackers[0].keys() == trackers[1].keys() == one.extra_state().keys()
    assert all(torch.equal(t[k], one.extra_state()[k]) for t in trackers for k in t)

    for step, (a, b) in enumerate(zip(*(r["lora"] for r in ranks), strict=True)):
        unequal = [name for name in a if not torch.equal(a[name], b[name])]
        assert not unequal, f"after step {step} the ranks' LoRA differ in {unequal[:3]}"
    initial, final, expected = ranks[0]["lora"][0], ranks[0]["lora"][-1], lora(one)
    assert any(not torch.equal(initial[n], final[n]) for n in final), "the LoRA did not train"
    worst = max(float((final[n] - expected[n]).abs().max()) for n in expected)
    moved = max(float((final[n] - initial[n]).abs().max()) for n in final)
    print(f"LoRA moved by up to {moved:.3g}; 2 ranks × batch 2 differ from 1 × batch 4 by up to {worst:.3g}")
    assert worst < 1e-5, f"2 ranks × batch 2 differ from 1 × batch 4 by {worst}"
