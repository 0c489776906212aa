"""LoRA adapters on the UNet as TRL attached them: peft's `LoraConfig` through diffusers' `add_adapter`, gaussian
init (A ~ N(0, 1/r), B = 0, so training starts from the pretrained model), trained in float32 whatever the frozen
weights' dtype (diffusers' `cast_training_params`, as TRL's mixed precision did).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from diffusers import UNet2DConditionModel
from diffusers.training_utils import cast_training_params
from peft import LoraConfig


def add_lora(
    unet: UNet2DConditionModel, rank: int, alpha: float, target_modules: Sequence[str], seed: int
) -> list[torch.nn.Parameter]:
    """Freezes the UNet, adds the adapters and returns their parameters (the only trainable ones), in float32.

    peft draws the gaussian A from torch's global generator; it is forked and seeded here, so the initial adapters
    depend on `seed` alone (equal on every rank) and the caller's random state is left as it was.
    """
    unet.requires_grad_(False)
    config = LoraConfig(r=rank, lora_alpha=alpha, init_lora_weights="gaussian", target_modules=list(target_modules))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet.add_adapter(config)
    cast_training_params(unet, dtype=torch.float32)
    params = [p for p in unet.parameters() if p.requires_grad]
    if not params:
        raise ValueError(f"lora_target_modules={list(target_modules)} matched no module of the UNet")
    return params
