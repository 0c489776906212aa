"""The log-probability of a DDIM step (eta > 0), which DDPO's policy gradient needs and diffusers' `DDIMScheduler.step`
does not return (TRL's `ddim_step_with_logprob` rewrote the whole step to get it). Here diffusers computes the step;
only the Gaussian density is ours.

With η > 0 a DDIM step draws x_{t−1} ~ N(μ_t, σ_t²) (Song et al. 2021, eq. 12), where `step` returns μ_t + σ_t·z for
the `variance_noise` z it is given: so μ_t is its output for z = 0, and σ_t its output for z = 1 at ε = 0 and x_t = 0
(where μ_t = 0). log p(x_{t−1} | x_t) is the density's mean over all but the batch dimension, as TRL takes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from diffusers import DDIMScheduler

LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


@dataclass
class StepWithLogProb:
    #: x_{t−1} [B, C, h, w]: drawn, or the given one.
    prev_sample: torch.Tensor
    #: log p(x_{t−1} | x_t) [B].
    log_prob: torch.Tensor


def ddpo_scheduler(scheduler: DDIMScheduler) -> DDIMScheduler:
    """The pipeline's scheduler with `set_alpha_to_one` off. TRL's step clamps the previous timestep at 0, so a step
    past t = 0 lands on ᾱ_0 whatever the config says; that keeps the last step stochastic (σ > 0), which its log-prob
    needs. For SD1.5 and tiny-shapes (set_alpha_to_one false) this is the pipeline's scheduler unchanged."""
    return DDIMScheduler.from_config(scheduler.config, set_alpha_to_one=False)


def step_std(scheduler: DDIMScheduler, timestep: torch.Tensor | int, eta: float, like: torch.Tensor) -> torch.Tensor:
    """σ_t = η·√((1 − ᾱ_{t−1}) / (1 − ᾱ_t) · (1 − ᾱ_t / ᾱ_{t−1})) (DDIM eq. 16) as diffusers' step computes it,
    shaped [1, 1, …] to broadcast against `like`."""
    zero = torch.zeros((1,) * like.ndim, dtype=like.dtype, device=like.device)
    return scheduler.step(zero, timestep, zero, eta=eta, variance_noise=torch.ones_like(zero)).prev_sample


def ddim_step_with_log_prob(
    scheduler: DDIMScheduler,
    eps: torch.Tensor,
    timestep: torch.Tensor | int,
    sample: torch.Tensor,
    eta: float,
    variance_noise: torch.Tensor | None = None,
    prev_sample: torch.Tensor | None = None,
) -> StepWithLogProb:
    """One DDIM step of the whole batch at `timestep` (`set_timesteps` called), from ε̂ [B, C, h, w] and x_t. Draws
    x_{t−1} = μ_t + σ_t·`variance_noise`, or scores the given `prev_sample`; the log-prob is differentiable in `eps`
    (through μ_t), never in x_{t−1}."""
    if eta <= 0:
        raise ValueError(f"eta={eta}: a step's log-probability needs eta > 0 (at 0 the step is deterministic)")
    if (variance_noise is None) == (prev_sample is None):
        raise ValueError("give exactly one of variance_noise (to draw x_{t-1}) and prev_sample (to score it)")
    mean = scheduler.step(eps, timestep, sample, eta=eta, variance_noise=torch.zeros_like(sample)).prev_sample
    if prev_sample is None:
        prev_sample = scheduler.step(eps, timestep, sample, eta=eta, variance_noise=variance_noise).prev_sample
    sigma = step_std(scheduler, timestep, eta, sample)
    density = -((prev_sample.detach() - mean) ** 2) / (2 * sigma**2) - torch.log(sigma) - LOG_SQRT_2PI
    return StepWithLogProb(prev_sample, density.mean(dim=tuple(range(1, density.ndim))))


def log_prob_at(
    scheduler: DDIMScheduler,
    eps: torch.Tensor,
    timesteps: torch.Tensor,
    sample: torch.Tensor,
    eta: float,
    prev_sample: torch.Tensor,
) -> torch.Tensor:
    """log p(x_{t−1} | x_t) [B] with a timestep per sample (`timesteps` [B]): diffusers' step takes one timestep, so
    each row steps on its own."""
    rows = [slice(b, b + 1) for b in range(len(timesteps))]
    steps = [
        ddim_step_with_log_prob(scheduler, eps[r], t, sample[r], eta, prev_sample=prev_sample[r])
        for r, t in zip(rows, timesteps.tolist(), strict=True)
    ]
    return torch.cat([s.log_prob for s in steps])
