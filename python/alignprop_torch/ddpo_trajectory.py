"""The two halves of DDPO's use of the sampler (TRL's `pipeline_step` and `scheduler_step` with log-probs; the TF.js
engine's src/algorithms/ddpo-trajectory.ts):
- `sample_trajectory`: the DDIM chain with guidance, without gradient, keeping every latent x_T … x_0 and each
  step's log p(x_{t−1} | x_t) under the weights that sampled it;
- `step_log_prob`: log p(x_{t−1} | x_t) of stored latent pairs under the current weights, at one timestep per sample
  (training shuffles timesteps independently per sample), differentiable in the LoRA weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .ddim_log_prob import ddim_step_with_log_prob, log_prob_at
from .sampler import Chain, guided_noise


@dataclass
class Trajectory:
    #: [B, S+1, C, h, w]: x_T, then the latent after each of the S steps (x_0 last).
    latents: torch.Tensor
    #: [B, S]: log-prob of step i's output given its input, under the sampling weights.
    log_probs: torch.Tensor


@torch.no_grad()
def sample_trajectory(c: Chain, x_t: torch.Tensor) -> Trajectory:
    """Runs the chain from x_T with its pre-drawn noise (eta > 0), recording latents and log-probs."""
    n = len(c.scheduler.timesteps)
    if len(c.noise) != n:
        raise ValueError(f"the chain has {n} steps but {len(c.noise)} noise tensors")
    latents, log_probs = [x_t], []
    for i, t in enumerate(c.scheduler.timesteps):
        x = latents[-1]
        eps = guided_noise(c, x, t).to(x.dtype)  # [B, C, h, w]
        out = ddim_step_with_log_prob(c.scheduler, eps, t, x, c.eta, variance_noise=c.noise[i])
        latents.append(out.prev_sample)
        log_probs.append(out.log_prob)
    return Trajectory(torch.stack(latents, dim=1), torch.stack(log_probs, dim=1))


def step_log_prob(c: Chain, latents: torch.Tensor, timesteps: torch.Tensor, next_latents: torch.Tensor) -> torch.Tensor:
    """log p_θ(next | latents) [B] for one DDIM step per sample at `timesteps[b]`, as TRL's `calculate_loss`: the
    current UNet's guided noise prediction (guidance as the chain says), then the step's Gaussian at x_{t−1}."""
    eps = guided_noise(c, latents, timesteps).to(latents.dtype)  # [B, C, h, w]
    return log_prob_at(c.scheduler, eps, timesteps, latents, c.eta, next_latents)
