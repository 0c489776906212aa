"""DDPO's per-timestep objective (Black et al. 2023, "Training Diffusion Models with Reinforcement Learning",
arXiv:2305.13301, §4.3), as TRL's `DDPOTrainer.calculate_loss` computes it: PPO's clipped surrogate over the
probability ratio of one denoising step under the current and the sampling weights, and TRL's two diagnostics.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class PpoClip:
    #: Ratios further than this from 1 are clipped (TRL's train_clip_range).
    clip_range: float
    #: Advantages are clipped to ±this first (TRL's train_adv_clip_max).
    adv_clip_max: float


def ppo_clip_loss(
    log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor, clip: PpoClip
) -> torch.Tensor:
    """mean over the batch of max(−A·ρ, −A·clip(ρ, 1 − ε, 1 + ε)), with ρ = exp(log p_θ − log p_old) and A clipped to
    ±adv_clip_max. Differentiable in `log_prob` [B]; `old_log_prob` and `advantages` [B] are constants."""
    a = advantages.clamp(-clip.adv_clip_max, clip.adv_clip_max)
    ratio = torch.exp(log_prob - old_log_prob)
    unclipped = -a * ratio
    clipped = -a * ratio.clamp(1 - clip.clip_range, 1 + clip.clip_range)
    return torch.maximum(unclipped, clipped).mean()


@dataclass(frozen=True)
class PpoStats:
    #: ½·mean (log p_θ − log p_old)², TRL's approx_kl.
    approx_kl: float
    #: Share of samples whose ratio left [1 − ε, 1 + ε], TRL's clipfrac.
    clip_fraction: float


def ppo_stats(log_prob: torch.Tensor, old_log_prob: torch.Tensor, clip_range: float) -> PpoStats:
    d = (log_prob - old_log_prob).detach().double()
    return PpoStats(
        approx_kl=float(0.5 * (d**2).mean()),
        clip_fraction=float(((d.exp() - 1).abs() > clip_range).double().mean()),
    )
