"""DDPO's advantages: each reward standardised, over the epoch's batch or per prompt (TRL's `PerPromptStatTracker`,
trl/trainer/utils.py), as the TF.js engine computes them (src/algorithms/ddpo-advantages.ts). Means and standard
deviations are population ones (numpy's), in float64.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np
import torch

#: Checkpoint keys of the per-prompt buffers: this prefix, then the prompt (the TF.js engine's keys).
STAT_TRACKER_PREFIX = "ddpo.stat_tracker."


def batch_advantages(rewards: Sequence[float]) -> list[float]:
    """TRL without stat tracking: (r − mean r) / (std r + 1e-8) over the whole batch."""
    r = np.asarray(rewards, dtype=np.float64)
    return ((r - r.mean()) / (r.std() + 1e-8)).tolist()


class PerPromptStatTracker:
    """Remembers the last `buffer_size` rewards of every prompt (keyed by its text; TRL keys by the text decoded from
    the prompt's token ids, the same for prompts that fit the tokenizer). A prompt's advantages use its own buffer's
    mean and std (+1e-6) once the buffer holds `min_count` rewards (this batch's included); before that, the batch's."""

    def __init__(self, buffer_size: int, min_count: int) -> None:
        self.buffer_size = buffer_size
        self.min_count = min_count
        self.buffers: dict[str, deque[float]] = {}

    def update(self, prompts: Sequence[str], rewards: Sequence[float]) -> list[float]:
        """Adds the batch's rewards to their prompts' buffers and returns each reward's advantage."""
        if len(prompts) != len(rewards):
            raise ValueError(f"{len(prompts)} prompts but {len(rewards)} rewards")
        r = np.asarray(rewards, dtype=np.float64)
        advantages = np.empty_like(r)
        for prompt in dict.fromkeys(prompts):  # unique, in first-seen order
            rows = np.array([i for i, p in enumerate(prompts) if p == prompt])
            buffer = self.buffers.setdefault(prompt, deque(maxlen=self.buffer_size))
            buffer.extend(r[rows].tolist())
            seen = r if len(buffer) < self.min_count else np.asarray(buffer)
            advantages[rows] = (r[rows] - seen.mean()) / (seen.std() + 1e-6)
        return advantages.tolist()

    def state(self) -> dict[str, torch.Tensor]:
        """The buffers as checkpoint tensors, `ddpo.stat_tracker.<prompt>` → [n] float32 (the rewards' own dtype)."""
        return {STAT_TRACKER_PREFIX + p: torch.tensor(list(b), dtype=torch.float32) for p, b in self.buffers.items()}

    def restore(self, tensors: dict[str, torch.Tensor]) -> None:
        """Replaces the buffers with those `state` wrote."""
        self.buffers.clear()
        for key, t in tensors.items():
            if not key.startswith(STAT_TRACKER_PREFIX):
                raise ValueError(f'checkpoint tensor "{key}" is not a reward buffer ({STAT_TRACKER_PREFIX}<prompt>)')
            if t.ndim != 1 or len(t) > self.buffer_size:
                raise ValueError(
                    f'checkpoint tensor "{key}" has shape {list(t.shape)}: a reward buffer is [n] with '
                    f"n ≤ per_prompt_stat_tracking_buffer_size={self.buffer_size}"
                )
            prompt = key.removeprefix(STAT_TRACKER_PREFIX)
            self.buffers[prompt] = deque(t.double().tolist(), maxlen=self.buffer_size)
