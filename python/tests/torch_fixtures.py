"""Shared pieces of the torch-engine tests: tiny-shapes loaded once, handed out as fresh copies."""

from __future__ import annotations

import copy
import functools

import torch

from alignprop_torch.config import AlignPropConfig
from alignprop_torch.lora import add_lora
from alignprop_torch.pipeline import TINY_SHAPES, Components, encode_prompts, load_pipeline
from alignprop_torch.sampler import Chain

CPU = torch.device("cpu")
# Tiny models gain nothing from intra-op threads, and on a shared CPU they lose badly: a 4-step chain took 0.3 s with
# one thread and 5-10 s with two on a loaded 2-core machine.
torch.set_num_threads(1)


@functools.cache
def tiny_shapes_once() -> Components:
    return load_pipeline(TINY_SHAPES)


def tiny_shapes(dtype: torch.dtype = torch.float32, lora: bool = True) -> Components:
    """A private copy of tiny-shapes on the CPU in `dtype`, with TRL's LoRA attached (B = 0 at init)."""
    c = copy.deepcopy(tiny_shapes_once()).to(CPU, dtype)
    if lora:
        add_lora(c.unet, rank=4, alpha=4, target_modules=("to_q", "to_k", "to_v", "to_out.0"), seed=0)
    return c


def lora_params(c: Components) -> list[torch.nn.Parameter]:
    return [p for p in c.unet.parameters() if p.requires_grad]


def perturb_lora_b(c: Components, seed: int = 1, scale: float = 0.05) -> None:
    """Gives lora_B non-zero values, so the gradient reaches lora_A too (at init B = 0 and ∂L/∂A = 0)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in c.unet.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype) * scale)


def tiny_chain(
    c: Components, steps: int, eta: float = 0.0, checkpointing: bool = False, batch: int = 1, seed: int = 0
) -> tuple[Chain, torch.Tensor]:
    """A guided chain over `steps` DDIM steps on "a red circle" prompts, and its x_T, in the weights' dtype."""
    dtype = c.unet.dtype
    c.scheduler.set_timesteps(steps)
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, c.unet.config.in_channels, c.unet.config.sample_size, c.unet.config.sample_size)
    x_t = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    noise = [torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype) for _ in range(steps)]
    context = torch.cat([encode_prompts(c, [""] * batch), encode_prompts(c, ["a red circle"] * batch)])
    return Chain(c.unet, c.scheduler, context, 5.0, eta, noise if eta > 0 else [], checkpointing), x_t


def cpu_config(**overrides) -> AlignPropConfig:
    """A small, CPU-sized AlignProp config on tiny-shapes."""
    base = dict(mixed_precision="no", sample_num_steps=4, truncated_backprop_rand=False, truncated_backprop_timestep=2)
    return AlignPropConfig(**{**base, **overrides})
