"""CLIPImageProcessor's steps as differentiable torch ops, the semantics of the TF.js engine's
src/models/clip/image-preprocess.ts: resize so the shortest edge is `size` (the long edge becomes ⌊size·long/short⌋)
with PIL's antialiased filter — which `F.interpolate(..., antialias=True)` reproduces (bicubic a = −0.5, or
triangular for bilinear) — crop the centre `size` × `size` (offsets rounded down), then (x − mean) / std per channel.
Values stay float (CLIPImageProcessor quantises to 8 bits first, which would cut the gradient).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

ClipResample = Literal["bicubic", "bilinear"]
CLIP_RESAMPLES: tuple[ClipResample, ...] = ("bicubic", "bilinear")
#: OpenAI CLIP's normalisation (CLIPImageProcessor's image_mean / image_std), RGB.
CLIP_IMAGE_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_IMAGE_STD = (0.26862954, 0.26130258, 0.27577711)


def shortest_edge_size(height: int, width: int, size: int) -> tuple[int, int]:
    """The image's size after the shortest-edge resize: (height, width)."""
    return (size, size * width // height) if height <= width else (size * height // width, size)


def clip_preprocess(images: torch.Tensor, size: int, resample: ClipResample = "bicubic") -> torch.Tensor:
    """images [B, 3, H, W] in [0, 1] → CLIP pixel values [B, 3, size, size]; differentiable with respect to images."""
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"CLIP preprocessing: images must be [B, 3, H, W], got {list(images.shape)}")
    if resample not in CLIP_RESAMPLES:
        raise ValueError(f"CLIP preprocessing: resample={resample!r} must be one of {', '.join(CLIP_RESAMPLES)}")
    h, w = images.shape[2:]
    sh, sw = shortest_edge_size(h, w, size)
    x = images
    if (sh, sw) != (h, w):
        x = F.interpolate(x, size=(sh, sw), mode=resample, antialias=True, align_corners=False)
    top, left = (sh - size) // 2, (sw - size) // 2
    x = x[:, :, top : top + size, left : left + size]
    mean = x.new_tensor(CLIP_IMAGE_MEAN).view(1, 3, 1, 1)
    std = x.new_tensor(CLIP_IMAGE_STD).view(1, 3, 1, 1)
    return (x - mean) / std
