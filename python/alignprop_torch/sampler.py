"""AlignProp's sampling chain: diffusers' DDIM step with classifier-free guidance from x_T to x_0, the gradient kept
only through the steps truncation keeps (truncation.py).

Only the UNet's output is cut at a step that is not kept (TRL: `noise_pred = noise_pred.detach()`); the latents stay
differentiable through the scheduler's linear update. Steps before the first kept one carry no gradient at all and
run under `torch.no_grad()`. With checkpointing, each kept UNet call is wrapped in non-reentrant
`torch.utils.checkpoint`: its activations are recomputed in backward, so only the latents between steps are held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from diffusers import DDIMScheduler, UNet2DConditionModel
from torch.utils.checkpoint import checkpoint


@dataclass
class Chain:
    """Everything one chain needs besides its starting latents."""

    unet: UNet2DConditionModel
    #: With `set_timesteps` already called: step i denoises at `scheduler.timesteps[i]`.
    scheduler: DDIMScheduler
    #: [2B, T, D] = [negative; prompt] when guidance_scale > 1, else [B, T, D].
    context: torch.Tensor
    guidance_scale: float
    eta: float
    #: z for each step's σ_t·z, drawn beforehand so a recomputed step sees the same values; empty when eta = 0.
    noise: Sequence[torch.Tensor]
    checkpointing: bool


def guided_noise(c: Chain, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """ε̂ = ε_u + w·(ε_c − ε_u) (Ho & Salimans 2022, eq. 6), or the text-conditioned ε when w ≤ 1: [B, C, h, w].
    `t`: one timestep for the batch, or one per sample [B] (DDPO trains each sample at its own)."""
    x_in = c.scheduler.scale_model_input(x, t)
    if c.guidance_scale <= 1:
        return c.unet(x_in, t, encoder_hidden_states=c.context).sample
    t_in = torch.cat([t, t]) if t.ndim == 1 else t
    eps = c.unet(torch.cat([x_in, x_in]), t_in, encoder_hidden_states=c.context).sample  # [2B, C, h, w]
    uncond, cond = eps.chunk(2)
    return uncond + c.guidance_scale * (cond - uncond)


def denoise_step(c: Chain, i: int, x: torch.Tensor, keep: bool) -> torch.Tensor:
    """One DDIM step x_t → x_{t−1}; with `keep` false the UNet output is detached."""
    t = c.scheduler.timesteps[i]
    if not keep:
        with torch.no_grad():
            eps = guided_noise(c, x, t)
    elif c.checkpointing:
        eps = checkpoint(guided_noise, c, x, t, use_reentrant=False)
    else:
        eps = guided_noise(c, x, t)
    z = c.noise[i] if c.eta > 0 else None
    return c.scheduler.step(eps.to(x.dtype), t, x, eta=c.eta, variance_noise=z).prev_sample


def sample_chain(c: Chain, keep: Sequence[bool], x_t: torch.Tensor) -> torch.Tensor:
    """x_0 from x_T; differentiable with respect to the LoRA weights through the kept steps only."""
    n = len(c.scheduler.timesteps)
    if len(keep) != n:
        raise ValueError(f"keep has {len(keep)} entries but the scheduler has {n} timesteps")
    if c.eta > 0 and len(c.noise) != n:
        raise ValueError(f"eta={c.eta} needs {n} noise tensors, got {len(c.noise)}")
    first = keep.index(True) if True in keep else n
    x = x_t
    with torch.no_grad():
        for i in range(first):
            x = denoise_step(c, i, x, keep=False)
    for i in range(first, n):
        x = denoise_step(c, i, x, keep[i])
    return x
