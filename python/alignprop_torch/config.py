"""The run-config fields the torch engine reads, with TRL's `AlignPropConfig` and `DDPOConfig` names and defaults.

The TS CLI is the one validator: it writes the resolved `config.json` (src/config/schema.ts), and this module only
reads it. Defaults here equal the schema's, so a config built in Python for tests means what the same JSON means to
the TS side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar

MixedPrecision = Literal["no", "fp16", "bf16"]
Loss = Literal["negative_reward", "trl", "target"]
Config = TypeVar("Config", bound="AlignPropConfig")


@dataclass(frozen=True)
class AlignPropConfig:
    seed: int = 0
    mixed_precision: MixedPrecision = "fp16"
    allow_tf32: bool = True
    sample_num_steps: int = 50
    sample_eta: float = 1.0
    sample_guidance_scale: float = 5.0
    train_batch_size: int = 1
    train_learning_rate: float = 1e-3
    train_adam_beta1: float = 0.9
    train_adam_beta2: float = 0.999
    train_adam_weight_decay: float = 1e-4
    train_adam_epsilon: float = 1e-8
    train_gradient_accumulation_steps: int = 1
    train_max_grad_norm: float = 1.0
    negative_prompts: str = ""
    truncated_backprop_rand: bool = True
    truncated_backprop_timestep: int = 49
    truncated_rand_backprop_minmax: tuple[int, int] = (0, 50)
    # alignprop's own fields (after TRL's push_to_hub in the schema).
    model: str = "tiny-shapes"
    reward: str = ""
    prompts: str = ""
    image_hook: str = ""
    # TRL redraws the random cut at every step; the paper's later code draws it once per chain (our default).
    truncated_backprop_per_step: bool = False
    gradient_checkpointing: bool = True
    loss: Loss = "negative_reward"
    reward_target: float | None = None
    lora_rank: int = 4
    lora_alpha: float = 4.0
    lora_target_modules: tuple[str, ...] = field(default=("to_q", "to_k", "to_v", "to_out.0"))
    #: The loss adds kl_coeff · kl, the kept steps' squared distance to the base UNet's prediction (sampler.py).
    kl_coeff: float = 0.0
    #: LoRA strength when sampling for evaluation and in the model card; training uses 1.
    lora_scale: float = 1.0

    @classmethod
    def from_dict(cls: type[Config], raw: dict[str, Any]) -> Config:
        """The fields this class reads from a resolved run config; the others (wire, run dir, …) are ignored."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in raw.items() if k in known}
        for key in ("truncated_rand_backprop_minmax", "lora_target_modules"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    @classmethod
    def from_json(cls: type[Config], path: Path) -> Config:
        """Reads the `config.json` the TS CLI resolved and validated."""
        return cls.from_dict(json.loads(path.read_text()))


@dataclass(frozen=True)
class DDPOConfig(AlignPropConfig):
    """What a DDPO job reads: the fields it shares with AlignProp (sampler, AdamW, LoRA, precision, prompts, reward;
    the truncation and loss fields are AlignProp's alone), then TRL's `DDPOConfig` fields. The schema's refinements
    hold DDPO's rules (TRL's `_config_check`: sample_batch_size a multiple of train_batch_size, …); not checked again.
    """

    sample_batch_size: int = 1
    sample_num_batches_per_epoch: int = 2
    train_num_inner_epochs: int = 1
    train_cfg: bool = True
    train_adv_clip_max: float = 5.0
    train_clip_range: float = 1e-4
    train_timestep_fraction: float = 1.0
    per_prompt_stat_tracking: bool = False
    per_prompt_stat_tracking_buffer_size: int = 16
    per_prompt_stat_tracking_min_count: int = 16

    @property
    def trained_timesteps(self) -> int:
        """Timesteps of each trajectory that train, TRL's `int(sample_num_steps * train_timestep_fraction)`."""
        return int(self.sample_num_steps * self.train_timestep_fraction)


def run_config(raw: dict[str, Any]) -> AlignPropConfig:
    """The config class the run's `algorithm` reads: DDPOConfig for "ddpo", AlignPropConfig otherwise."""
    return DDPOConfig.from_dict(raw) if raw.get("algorithm") == "ddpo" else AlignPropConfig.from_dict(raw)
