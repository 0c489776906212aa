"""The LAION aesthetic predictor's layout (improved-aesthetic-predictor, the head TRL's AlignProp/DDPO examples load
from trl-lib/ddpo-aesthetic-predictor): CLIP's image embedding, L2-normalised, through an MLP whose nn.Sequential
interleaves Dropout (inactive at inference) and has no activations — keys layers.0/2/4/6/7. `tiny-aesthetic` is this
head over models/tiny-shapes/clip; `aesthetic` over openai/clip-vit-large-patch14 (widths 768→1024→128→64→16→1).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import CLIPVisionModelWithProjection

from .clip_preprocess import ClipResample, clip_preprocess
from .reward import Reward

#: LAION's widths: CLIP ViT-L/14 embedding → 1024 → 128 → 64 → 16 → score.
LAION_HEAD_WIDTHS = (768, 1024, 128, 64, 16, 1)
#: Where the Linear layers sit in the nn.Sequential (1, 3, 5 are Dropout).
LINEAR_INDICES = (0, 2, 4, 6, 7)


class AestheticHead(nn.Module):
    def __init__(self, widths: Sequence[int] = LAION_HEAD_WIDTHS) -> None:
        super().__init__()
        if len(widths) != len(LINEAR_INDICES) + 1 or widths[-1] != 1:
            raise ValueError(
                f"aesthetic head widths={list(widths)} must be 6 widths ending in 1 (LAION's: {LAION_HEAD_WIDTHS})"
            )
        layers: list[nn.Module] = []
        for i, (n_in, n_out) in enumerate(zip(widths, widths[1:], strict=False)):
            layers.append(nn.Linear(n_in, n_out))
            if i < 3:
                layers.append(nn.Dropout(0.2))
        self.layers = nn.Sequential(*layers)
        self.widths = tuple(widths)

    def forward(self, embeds: torch.Tensor) -> torch.Tensor:
        """embeds [B, widths[0]] → scores [B]"""
        return self.layers(embeds).squeeze(-1)

    @classmethod
    def from_file(cls, path: Path) -> AestheticHead:
        """Widths from the weights' shapes (`layers.N.weight` [out, in]); every key must match."""
        tensors = load_file(path)
        absent = [
            f"layers.{i}.weight" for i in LINEAR_INDICES if tensors.get(f"layers.{i}.weight", torch.empty(0)).ndim != 2
        ]
        if absent:
            raise ValueError(f"{path} is not an aesthetic head: no 2-d {', '.join(absent)}")
        shapes = [tensors[f"layers.{i}.weight"].shape for i in LINEAR_INDICES]
        head = cls([shapes[0][1], *(s[0] for s in shapes)])
        head.load_state_dict(tensors, strict=True)
        return head


def aesthetic_reward(
    vision: CLIPVisionModelWithProjection,
    head: AestheticHead,
    name: str = "aesthetic",
    resample: ClipResample = "bicubic",
) -> Reward:
    """The head over a loaded vision tower; images are CLIP-preprocessed inside, so any size is scored."""
    if head.widths[0] != vision.config.projection_dim:
        raise ValueError(
            f"the aesthetic head takes {head.widths[0]}-d embeddings but the CLIP model gives "
            f"projection_dim={vision.config.projection_dim}"
        )
    for module in (vision, head):
        module.requires_grad_(False).eval()
    size = vision.config.image_size

    def score(images, prompts, metadata):
        embeds = vision(pixel_values=clip_preprocess(images, size, resample)).image_embeds  # [B, P]
        embeds = embeds / torch.linalg.vector_norm(embeds, dim=-1, keepdim=True)
        return head(embeds), {}

    widths = "→".join(map(str, head.widths))
    return Reward(
        name=name,
        description=f"LAION-layout aesthetic head (MLP {widths}) on CLIP's L2-normalised image embedding",
        range=unit_input_bound(head),
        score=score,
        modules=(vision, head),
    )


def unit_input_bound(head: AestheticHead) -> tuple[float, float]:
    """The exact range over unit-norm inputs: without activations the head is w·x + b, spanning b ± ‖w‖."""
    with torch.no_grad():
        n = head.widths[0]
        like = next(head.parameters())
        b = head(torch.zeros(1, n, device=like.device, dtype=like.dtype))
        w = head(torch.eye(n, device=like.device, dtype=like.dtype)) - b
        return (float(b - w.norm()), float(b + w.norm()))


def load_aesthetic_reward(head: Path, clip: str, name: str = "aesthetic", resample: ClipResample = "bicubic") -> Reward:
    """The head from a safetensors file over the vision tower of `clip` (a transformers CLIP folder or Hub id)."""
    return aesthetic_reward(
        CLIPVisionModelWithProjection.from_pretrained(clip), AestheticHead.from_file(head), name, resample
    )
