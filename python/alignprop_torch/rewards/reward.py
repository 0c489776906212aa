"""What a reward is on the torch engine: TRL's signature `(images, prompts, metadata) -> (rewards, metadata)`, with
images [B, 3, H, W] in [0, 1] (torch's layout; the TF.js engine's are [B, H, W, 3]) and rewards [B], plus the facts
the TS registry keeps beside it (src/rewards/reward.ts): its name, description, range and differentiability.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

PromptMetadata = Mapping[str, Any]
RewardFn = Callable[[torch.Tensor, Sequence[str], Sequence[PromptMetadata]], tuple[torch.Tensor, dict[str, Any]]]


@dataclass(frozen=True)
class Reward:
    name: str
    description: str
    range: tuple[float, float]
    score: RewardFn
    #: AlignProp backpropagates the reward's gradient; DDPO needs only its values.
    differentiable: bool = True
    #: Networks the reward runs (frozen), moved with `to`.
    modules: tuple[torch.nn.Module, ...] = field(default=())

    def to(self, device: torch.device) -> Reward:
        for module in self.modules:
            module.to(device)
        return self


def score_images(
    reward: Reward, images: torch.Tensor, prompts: Sequence[str], metadata: Sequence[PromptMetadata]
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Runs the reward and checks it gave one value per image."""
    b = images.shape[0]
    if len(prompts) != b or len(metadata) != b:
        raise ValueError(
            f'reward "{reward.name}": {b} images but {len(prompts)} prompts and {len(metadata)} metadata entries'
        )
    rewards, meta = reward.score(images, prompts, metadata)
    if rewards.shape != (b,):
        raise ValueError(
            f'reward "{reward.name}" returned shape {list(rewards.shape)} for {b} images; it must return [{b}]'
        )
    return rewards, meta


def require_differentiable(reward: Reward) -> None:
    """AlignProp backpropagates the reward's gradient; a reward without one is pointed at DDPO."""
    if not reward.differentiable:
        raise ValueError(
            f'reward "{reward.name}" is not differentiable ({reward.description}), and AlignProp trains by '
            "backpropagating the reward's gradient through the sampler. Train with DDPO instead (--algorithm ddpo), "
            "which needs only reward values."
        )
