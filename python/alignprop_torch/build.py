"""Everything an AlignProp job needs, from a config: the pipeline on the device with its frozen weights in the
precision's dtype, LoRA attached in float32, the reward and the prompt source."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .alignprop import AlignProp
from .config import AlignPropConfig
from .lora import add_lora
from .pipeline import MODELS, Components, load_pipeline, model_source
from .precision import Precision
from .prompts import prompt_source_for
from .rewards import Reward, resolve_reward

#: What a config's `reward` / `prompts` of "" means (src/trainer/jobs.ts): the embedded pipeline's own, else these.
TINY_SHAPES_DEFAULTS = {"reward": "tiny-aesthetic", "prompts": "shapes"}
OTHER_DEFAULTS = {"reward": "brightness", "prompts": "animals"}


#: What loading counts (`on_component`): the pipeline's three networks, then the reward.
LOADED_COMPONENTS = len(MODELS) + 1


def build_alignprop(
    config: AlignPropConfig,
    device: torch.device,
    components: Components | None = None,
    reward: Reward | None = None,
    on_component: Callable[[str, int], None] | None = None,
) -> AlignProp:
    """`on_component(item, loaded)` follows loading: before each network, before the reward and once it is ready
    (`loaded` == LOADED_COMPONENTS), as src/trainer/jobs.ts reports it."""
    report = on_component or (lambda item, loaded: None)
    precision = Precision.for_device(device, config.mixed_precision, config.allow_tf32)
    c = (components or load_pipeline(model_source(config.model), report)).to(device, precision.weight_dtype)
    add_lora(c.unet, config.lora_rank, config.lora_alpha, config.lora_target_modules, config.seed)
    defaults = TINY_SHAPES_DEFAULTS if config.model == "tiny-shapes" else OTHER_DEFAULTS
    reward_name = config.reward or defaults["reward"]
    report(f"reward {reward_name}", len(MODELS))
    reward = (reward or resolve_reward(reward_name)).to(device)
    report(f"reward {reward_name}", LOADED_COMPONENTS)
    prompts = prompt_source_for(config.prompts, defaults["prompts"])
    return AlignProp(c, config, reward, prompts, precision)
