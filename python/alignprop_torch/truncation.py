"""Which DDIM steps keep their gradient (truncated backpropagation, Prabhudesai et al. 2023, §4.2), as the TF.js
engine draws them (src/diffusion/differentiable-sampler.ts):

- fixed: steps with index ≥ `truncated_backprop_timestep`.
- random, once per chain (default): one cut c ~ U{min … max}, steps with index ≥ c (the authors' TRL-based
  `sd_pipeline.py` draws `backprop_timestep` once before the denoising loop).
- random, per step (`truncated_backprop_per_step`, TRL's behaviour): TRL's `pipeline_step_with_grad` calls
  `random.randint(min, max)` inside the loop, so step i is kept independently with probability
  (i − min + 1)/(max − min + 1): a random subset, not a suffix.

Draws come from the job's seeded `torch.Generator`, whose state the checkpoint saves.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import AlignPropConfig


@dataclass(frozen=True)
class Truncation:
    rand: bool
    timestep: int
    minmax: tuple[int, int]
    per_step: bool

    @classmethod
    def from_config(cls, c: AlignPropConfig) -> Truncation:
        return cls(
            rand=c.truncated_backprop_rand,
            timestep=c.truncated_backprop_timestep,
            minmax=(c.truncated_rand_backprop_minmax[0], c.truncated_rand_backprop_minmax[1]),
            per_step=c.truncated_backprop_per_step,
        )


def kept_steps(num_steps: int, t: Truncation, generator: torch.Generator) -> list[bool]:
    """keep[i]: step i's UNet output carries gradient. Cuts are uniform on [min, max], both included."""
    low, high = t.minmax

    def draw() -> int:
        return int(torch.randint(low, high + 1, (), generator=generator))

    if not t.rand:
        return [i >= t.timestep for i in range(num_steps)]
    if t.per_step:
        return [i >= draw() for i in range(num_steps)]
    cut = draw()
    return [i >= cut for i in range(num_steps)]
