"""Built-in rewards: image statistics as torch ops, so each is differentiable and scores any image size; the same
formulas as the TF.js engine's (src/rewards/builtin.ts). Luma is Rec. 601's Y' = 0.299 R + 0.587 G + 0.114 B. Hue lives
in the opponent-colour plane a = R − (G + B)/2, b = (√3/2)(G − B), where atan2(b, a) is the HSV hue at the primaries
and secondaries and √(a² + b²) the chroma. Images are [B, 3, H, W] in [0, 1].
"""

from __future__ import annotations

import math
import re

import torch

from .reward import Reward

LUMA = (0.299, 0.587, 0.114)
#: Guards the square root's gradient at a flat image.
CONTRAST_EPS = 1e-8
HUES: dict[str, float] = {"red": 0, "orange": 30, "yellow": 60, "green": 120, "cyan": 180, "blue": 240, "magenta": 300}


def channel_sum(images: torch.Tensor, weights: tuple[float, float, float]) -> torch.Tensor:
    """Σ_c w_c · images[:, c]: [B, 3, H, W] → [B, H, W]"""
    return torch.einsum("bchw,c->bhw", images, images.new_tensor(weights))


def luma(images: torch.Tensor) -> torch.Tensor:
    return channel_sum(images, LUMA)


brightness = Reward(
    name="brightness",
    description="mean luma (Rec. 601)",
    range=(0.0, 1.0),
    score=lambda images, prompts, metadata: (luma(images).mean((1, 2)), {}),
)

saturation = Reward(
    name="saturation",
    description="mean chroma, max(R,G,B) − min(R,G,B)",
    range=(0.0, 1.0),
    score=lambda images, prompts, metadata: ((images.amax(1) - images.amin(1)).mean((1, 2)), {}),
)

contrast = Reward(
    name="contrast",
    description="standard deviation of luma (RMS contrast)",
    range=(0.0, 0.5),
    score=lambda images, prompts, metadata: ((luma(images).var((1, 2), unbiased=False) + CONTRAST_EPS).sqrt(), {}),
)


def hue(target: str = "red") -> Reward:
    """Chroma along the target hue: 1 for the pure target colour, 0 for greys and perpendicular hues, −1 opposite."""
    degrees = hue_degrees(target)
    ca, cb = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    # a·cos h + b·sin h = R·ca + G·(−ca/2 + (√3/2) sb) + B·(−ca/2 − (√3/2) sb): one weighted channel sum.
    weights = (ca, -ca / 2 + math.sqrt(3) / 2 * cb, -ca / 2 - math.sqrt(3) / 2 * cb)
    return Reward(
        name=f"hue:{target}",
        description=f"chroma along hue {degrees:.1f}° ({target})",
        range=(-1.0, 1.0),
        score=lambda images, prompts, metadata: (
            channel_sum(images, weights).mean((1, 2)),
            {"target_hue_degrees": degrees},
        ),
    )


def hue_degrees(target: str) -> float:
    """A hue name, degrees, or "#rrggbb" → degrees in [0, 360)."""
    if target.lower() in HUES:
        return HUES[target.lower()]
    if re.fullmatch(r"-?\d+(\.\d+)?", target):
        return float(target) % 360
    hex_colour = re.fullmatch(r"#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})", target, re.IGNORECASE)
    if hex_colour:
        r, g, b = (int(h, 16) / 255 for h in hex_colour.groups())
        a, bb = r - (g + b) / 2, math.sqrt(3) / 2 * (g - b)
        if math.hypot(a, bb) < 1e-3:
            raise ValueError(f"hue target {target} is a grey: it has no hue; pick a coloured target")
        return math.degrees(math.atan2(bb, a)) % 360
    raise ValueError(
        f'hue target "{target}" is not a hue: use a name ({", ".join(HUES)}), degrees (e.g. 240), or #rrggbb'
    )
