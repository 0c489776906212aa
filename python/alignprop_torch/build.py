"""Everything a job needs, from a config: the pipeline on the device with its frozen weights in the precision's
dtype, LoRA attached in float32, the reward (a built-in, or the user's Python module probed at the pipeline's image
size on the device) and the prompt source; then AlignProp or DDPO over them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import torch

from .alignprop import AlignProp
from .config import AlignPropConfig, DDPOConfig
from .ddpo import DDPO
from .distributed import Ranks
from .lora import add_lora
from .pipeline import MODELS, Components, image_size, load_pipeline, model_source
from .precision import Precision
from .prompts import prompt_source_for
from .rewards import Reward, resolve_reward
from .user_modules import is_python_module, load_reward_module

#: What a config's `reward` / `prompts` of "" means (src/trainer/jobs.ts): the embedded pipeline's own, else these.
TINY_SHAPES_DEFAULTS = {"reward": "tiny-aesthetic", "prompts": "shapes"}
OTHER_DEFAULTS = {"reward": "brightness", "prompts": "animals"}

Job = TypeVar("Job", AlignProp, DDPO)
#: `on_component(item, loaded)` follows loading: before each network, before the reward and once it is ready
#: (`loaded` == LOADED_COMPONENTS), as src/trainer/jobs.ts reports it.
OnComponent = Callable[[str, int], None]
LOADED_COMPONENTS = len(MODELS) + 1


def build_job(
    algorithm: type[Job],
    config: AlignPropConfig,
    device: torch.device,
    components: Components | None = None,
    reward: Reward | None = None,
    ranks: Ranks | None = None,
    on_component: OnComponent | None = None,
) -> Job:
    """On one rank of `ranks` (default: a single process): the same LoRA on every rank (from the seed), this rank's
    own draws, the gradients averaged over the ranks. Loading is reported to `on_component`."""
    report = on_component or (lambda item, loaded: None)
    precision = Precision.for_device(device, config.mixed_precision, config.allow_tf32)
    c = (components or load_pipeline(model_source(config.model), report)).to(device, precision.weight_dtype)
    add_lora(c.unet, config.lora_rank, config.lora_alpha, config.lora_target_modules, config.seed)
    defaults = TINY_SHAPES_DEFAULTS if config.model == "tiny-shapes" else OTHER_DEFAULTS
    spec = config.reward or defaults["reward"]
    report(f"reward {spec}", len(MODELS))
    if reward is None:
        reward = load_reward_module(spec, device, image_size(c)) if is_python_module(spec) else resolve_reward(spec)
    reward = reward.to(device)
    report(f"reward {spec}", LOADED_COMPONENTS)
    prompts = prompt_source_for(config.prompts, defaults["prompts"])
    job = algorithm(c, config, reward, prompts, precision)
    if ranks is not None and ranks.world_size > 1:
        job.data_parallel(ranks)
    return job


def build_alignprop(
    config: AlignPropConfig,
    device: torch.device,
    components: Components | None = None,
    reward: Reward | None = None,
    ranks: Ranks | None = None,
) -> AlignProp:
    return build_job(AlignProp, config, device, components, reward, ranks)


def build_ddpo(
    config: DDPOConfig, device: torch.device, components: Components | None = None, reward: Reward | None = None
) -> DDPO:
    return build_job(DDPO, config, device, components, reward)


def build_for(
    config: AlignPropConfig, device: torch.device, ranks: Ranks | None = None, on_component: OnComponent | None = None
) -> AlignProp | DDPO:
    """The job a run config (config.run_config) asks for: DDPO for a DDPOConfig, else AlignProp."""
    algorithm = DDPO if isinstance(config, DDPOConfig) else AlignProp
    return build_job(algorithm, config, device, ranks=ranks, on_component=on_component)
