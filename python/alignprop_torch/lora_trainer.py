"""What AlignProp and DDPO share (the TF.js engine's src/algorithms/lora-optimizer.ts and conditioning.ts): the LoRA
parameters of the UNet and TRL's AdamW over them with fp16 loss scaling, the job's seeded generator, the negative
prompt's embedding for classifier-free guidance, and the state a checkpoint must hold to continue exactly.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import torch

from .config import AlignPropConfig
from .distributed import Ranks, rank_seed
from .pipeline import Components, encode_prompts
from .precision import Precision


@dataclass
class StepImages:
    #: [B, 3, H, W] in [0, 1], float32 on the CPU.
    images: torch.Tensor
    prompts: list[str]
    prompt_metadata: list[dict[str, Any]]
    rewards: list[float]


@dataclass
class StepResult:
    loss: float
    rewards: list[float]
    grad_norm: float
    lr: float
    images: StepImages | None = None
    #: Algorithm-specific numbers by name, sent as Metrics.scalars (DDPO's approx_kl, clip_fraction; AlignProp's kl).
    scalars: dict[str, float] = field(default_factory=dict)


def adamw(params: list[torch.nn.Parameter], c: AlignPropConfig) -> torch.optim.AdamW:
    """TRL's optimizer from its config fields."""
    return torch.optim.AdamW(
        params,
        lr=c.train_learning_rate,
        betas=(c.train_adam_beta1, c.train_adam_beta2),
        weight_decay=c.train_adam_weight_decay,
        eps=c.train_adam_epsilon,
    )


class LoraTrainer:
    """The base of a job: subclasses add `step(keep_images) -> StepResult`."""

    #: Prefixes of the checkpoint tensors a subclass adds to training_state()["extra"] (e.g. DDPO's reward buffers).
    extra_prefixes: tuple[str, ...] = ()

    def __init__(self, c: Components, config: AlignPropConfig, precision: Precision) -> None:
        """`c`: on the device, frozen weights in `precision.weight_dtype`, LoRA attached (lora.add_lora)."""
        self.c = c
        self.config = config
        self.precision = precision
        named = [(name, p) for name, p in c.unet.named_parameters() if p.requires_grad]
        #: The LoRA parameters (the only trainable ones) and their UNet state-dict names.
        self.lora_names = [name for name, _ in named]
        self.params = [p for _, p in named]
        if not self.params:
            raise ValueError("the UNet has no trainable LoRA parameters; attach them (lora.add_lora) before training")
        self.generator = torch.Generator().manual_seed(config.seed)
        #: The job's ranks (data_parallel): the summed LoRA gradients are averaged over them before each optimizer
        #: step, and an algorithm gathers from them what it needs of every rank (DDPO's rewards). Alone: rank 0 of 1.
        self.ranks = Ranks()
        self.optimizer = adamw(self.params, config)
        self.scaler = precision.grad_scaler()
        #: The negative prompt's embedding [1, T, D], encoded once (TRL's `neg_prompt_embed`).
        self.negative_embedding = encode_prompts(c, [config.negative_prompts])
        size = c.unet.config.sample_size
        self.latent_size = (size, size) if isinstance(size, int) else tuple(size)

    def data_parallel(self, ranks: Ranks) -> None:
        """One rank of a data-parallel job (distributed.py): this rank's own draws (prompts, noise, truncation) from
        its own seed (rank_seed), and the gradients averaged over `ranks` before every optimizer step."""
        self.generator.manual_seed(rank_seed(self.config.seed, ranks.rank))
        self.ranks = ranks

    def backward(self, loss: torch.Tensor) -> None:
        """Adds the gradient of `loss` (scaled against fp16 underflow) to the LoRA parameters'."""
        self.scaler.scale(loss).backward()

    def optimizer_step(self) -> float:
        """Clips the summed gradient's global norm to `train_max_grad_norm` (scaled by max/(norm + 1e-6) when
        above), takes one AdamW step, and returns the norm before clipping. The gradients stay until zero_grad. In a
        data-parallel job the gradients are first averaged over the ranks (before unscaling, so every rank's loss
        scaler sees the same values)."""
        self.ranks.average_gradients(self.params)
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, self.config.train_max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return float(grad_norm)

    def context(self, prompts: list[str], guided: bool = True) -> torch.Tensor:
        """[negative × B; prompts] [2B, T, D] when guided and sample_guidance_scale > 1, else the prompts' [B, T, D]."""
        return self.with_negative(encode_prompts(self.c, prompts), guided)

    def with_negative(self, embedded: torch.Tensor, guided: bool = True) -> torch.Tensor:
        """`context` for prompts already encoded ([B, T, D])."""
        if not guided or self.config.sample_guidance_scale <= 1:
            return embedded
        return torch.cat([self.negative_embedding.expand(len(embedded), -1, -1), embedded])

    def normal(self, batch: int, sigma: float = 1.0) -> torch.Tensor:
        """N(0, σ²) latents [batch, C, h, w] from the job's generator (on the CPU, so every device draws the same)."""
        shape = (batch, self.c.unet.config.in_channels, *self.latent_size)
        return (torch.randn(shape, generator=self.generator) * sigma).to(self.precision.device)

    def training_state(self) -> dict[str, Any]:
        """What a checkpoint must hold to continue exactly: LoRA weights, AdamW moments, loss scale, generator, and
        a subclass's `extra` tensors. A copy: the optimizer updates its moments in place."""
        return {
            "lora": {n: p.detach().cpu().clone() for n, p in zip(self.lora_names, self.params, strict=True)},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "scaler": self.scaler.state_dict(),
            "generator": self.generator.get_state(),
            "extra": self.extra_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        names, saved = set(self.lora_names), set(state["lora"])
        if names != saved:
            raise ValueError(f"LoRA keys differ: missing {sorted(names - saved)}, unexpected {sorted(saved - names)}")
        with torch.no_grad():
            for name, p in zip(self.lora_names, self.params, strict=True):
                p.copy_(state["lora"][name])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.generator.set_state(state["generator"])
        self.restore_extra(state.get("extra", {}))

    def extra_state(self) -> dict[str, torch.Tensor]:
        """A subclass's checkpoint tensors besides the LoRA and AdamW's, keyed under its `extra_prefixes`."""
        return {}

    def restore_extra(self, tensors: dict[str, torch.Tensor]) -> None:
        if tensors:
            raise ValueError(f"unexpected checkpoint tensors: {sorted(tensors)}")
