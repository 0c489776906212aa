"""AlignProp's sampling chain: diffusers' DDIM step with classifier-free guidance from x_T to x_0, the gradient kept
only through the steps truncation keeps (truncation.py).

Only the UNet's output is cut at a step that is not kept (TRL: `noise_pred = noise_pred.detach()`); the latents stay
differentiable through the scheduler's linear update. Steps before the first kept one carry no gradient at all and
run under `torch.no_grad()`. With checkpointing, each kept UNet call is wrapped in non-reentrant
`torch.utils.checkpoint`: its activations are recomputed in backward, so only the latents between steps are held.

With `Chain.kl` (the run config's `kl_coeff` > 0), every kept step also runs the base UNet (diffusers'
`disable_adapters`, under `torch.no_grad()`) at the same x_t, and the chain returns
kl = mean over the kept steps of mean_{B,C,h,w} (ε̂_θ(x_t) − ε̂_base(x_t))², the guided predictions' squared distance,
as src/diffusion/differentiable-sampler.ts computes it; ε̂_base is a constant target. `Chain.lora_scale` mixes the
adapters in at that strength in every UNet call (diffusers' `cross_attention_kwargs={"scale": …}`): 0 is the base
model, 1 the trained one.
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
    #: Compute the KL term on the kept steps (run_chain's `kl`).
    kl: bool = False
    #: The LoRA adapters' strength in every UNet call (peft's scale_layer): 1 as trained, 0 the base model.
    lora_scale: float = 1.0


@dataclass
class ChainSample:
    #: x_0 [B, C, h, w], differentiable with respect to the LoRA weights through the kept steps.
    x0: torch.Tensor
    #: With `Chain.kl`: the mean over the kept steps of mean (ε̂_θ − ε̂_base)², with gradient (0 when none is kept).
    kl: torch.Tensor | None


def guided_noise(c: Chain, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """ε̂ = ε_u + w·(ε_c − ε_u) (Ho & Salimans 2022, eq. 6), or the text-conditioned ε when w ≤ 1: [B, C, h, w].
    `t`: one timestep for the batch, or one per sample [B] (DDPO trains each sample at its own)."""
    x_in = c.scheduler.scale_model_input(x, t)
    mixing = {} if c.lora_scale == 1 else {"cross_attention_kwargs": {"scale": c.lora_scale}}
    if c.guidance_scale <= 1:
        return c.unet(x_in, t, encoder_hidden_states=c.context, **mixing).sample
    t_in = torch.cat([t, t]) if t.ndim == 1 else t
    eps = c.unet(torch.cat([x_in, x_in]), t_in, encoder_hidden_states=c.context, **mixing).sample  # [2B, C, h, w]
    uncond, cond = eps.chunk(2)
    return uncond + c.guidance_scale * (cond - uncond)


def base_noise(c: Chain, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The base UNet's guided prediction (LoRA adapters disabled), without gradient."""
    c.unet.disable_adapters()
    try:
        with torch.no_grad():
            return guided_noise(c, x, t)
    finally:
        c.unet.enable_adapters()


def noise_prediction(c: Chain, i: int, x: torch.Tensor, keep: bool) -> torch.Tensor:
    """Step i's guided prediction; with `keep` false it is detached."""
    t = c.scheduler.timesteps[i]
    if not keep:
        with torch.no_grad():
            return guided_noise(c, x, t)
    if c.checkpointing:
        return checkpoint(guided_noise, c, x, t, use_reentrant=False)
    return guided_noise(c, x, t)


def ddim_step(c: Chain, i: int, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    z = c.noise[i] if c.eta > 0 else None
    return c.scheduler.step(eps.to(x.dtype), c.scheduler.timesteps[i], x, eta=c.eta, variance_noise=z).prev_sample


def denoise_step(c: Chain, i: int, x: torch.Tensor, keep: bool) -> torch.Tensor:
    """One DDIM step x_t → x_{t−1}; with `keep` false the UNet output is detached."""
    return ddim_step(c, i, x, noise_prediction(c, i, x, keep))


def sample_chain(c: Chain, keep: Sequence[bool], x_t: torch.Tensor) -> torch.Tensor:
    """x_0 from x_T; differentiable with respect to the LoRA weights through the kept steps only."""
    return run_chain(c, keep, x_t).x0


def run_chain(c: Chain, keep: Sequence[bool], x_t: torch.Tensor) -> ChainSample:
    """x_0 from x_T, and with `Chain.kl` the kept steps' KL term."""
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
    terms: list[torch.Tensor] = []
    for i in range(first, n):
        eps = noise_prediction(c, i, x, keep[i])
        if c.kl and keep[i]:
            base = base_noise(c, x, c.scheduler.timesteps[i])
            terms.append((eps.float() - base.float()).pow(2).mean())
        x = ddim_step(c, i, x, eps)
    if not c.kl:
        return ChainSample(x, None)
    return ChainSample(x, torch.stack(terms).mean() if terms else torch.zeros((), device=x.device))
