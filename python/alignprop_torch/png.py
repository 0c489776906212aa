"""8-bit RGB images as the run directory stores them (src/run/README.md, images/): [B, 3, H, W] floats in [0, 1] →
uint8 [B, H, W, 3] (clamped, ×255, rounded, as src/io/png.ts's floatsToImages), PNG bytes and back."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def to_8bit(images: torch.Tensor) -> np.ndarray:
    """[B, 3, H, W] in [0, 1] → uint8 [B, H, W, 3]."""
    return (images.detach().float().clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def encode_png(rgb: np.ndarray) -> bytes:
    """uint8 [H, W, 3] → PNG bytes (colour type 2)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def read_png(path: Path) -> np.ndarray:
    """A saved PNG as uint8 [H, W, 3]."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def as_floats(rgb: np.ndarray) -> np.ndarray:
    """uint8 [..., 3] → float32 in [0, 1], the pixels every monitor reads."""
    return rgb.astype(np.float32) / np.float32(255)
