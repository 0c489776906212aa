"""Everything an AlignProp job needs, from a config: the pipeline on the device with its frozen weights in the
precision's dtype, LoRA attached in float32, the reward (a built-in, or the user's Python module probed at the
pipeline's image size on the device) and the prompt source."""

from __future__ import annotations

import torch

from .alignprop import AlignProp
from .config import AlignPropConfig
from .lora import add_lora
from .pipeline import Components, image_size, load_pipeline, model_source
from .precision import Precision
from .prompts import prompt_source_for
from .rewards import Reward, resolve_reward
from .user_modules import is_python_module, load_reward_module

#: What a config's `reward` / `prompts` of "" means (src/trainer/jobs.ts): the embedded pipeline's own, else these.
TINY_SHAPES_DEFAULTS = {"reward": "tiny-aesthetic", "prompts": "shapes"}
OTHER_DEFAULTS = {"reward": "brightness", "prompts": "animals"}


def build_alignprop(
    config: AlignPropConfig, device: torch.device, components: Components | None = None, reward: Reward | None = None
) -> AlignProp:
    precision = Precision.for_device(device, config.mixed_precision, config.allow_tf32)
    c = (components or load_pipeline(model_source(config.model))).to(device, precision.weight_dtype)
    add_lora(c.unet, config.lora_rank, config.lora_alpha, config.lora_target_modules, config.seed)
    defaults = TINY_SHAPES_DEFAULTS if config.model == "tiny-shapes" else OTHER_DEFAULTS
    spec = config.reward or defaults["reward"]
    if reward is None:
        reward = load_reward_module(spec, device, image_size(c)) if is_python_module(spec) else resolve_reward(spec)
    reward = reward.to(device)
    prompts = prompt_source_for(config.prompts, defaults["prompts"])
    return AlignProp(c, config, reward, prompts, precision)
