"""The shapes world's held-out classifiers, `classifyColour` and `classifyShape` of src/data/shapes-world.ts, ported
rule for rule: no learned weights, pure pixel rules on [H, W, 3] floats in [0, 1] (the saved 8-bit images / 255, as
float32). Distances are computed in float64 and stored as float32, as the TS side's Float32Array does, so both
engines give the same class on the same pixels."""

from __future__ import annotations

import math

import numpy as np

#: src/data/shape-prompts.ts's COLOURS, in its order (ties go to the earlier name).
SHAPE_COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.9, 0.1, 0.1),
    "green": (0.1, 0.75, 0.2),
    "blue": (0.15, 0.25, 0.9),
    "yellow": (0.95, 0.85, 0.1),
    "cyan": (0.1, 0.8, 0.85),
    "magenta": (0.85, 0.15, 0.8),
    "orange": (0.95, 0.55, 0.1),
    "white": (0.95, 0.95, 0.95),
}
#: Fill ratios between the triangle's 1/2 and the circle's π/4, and between the circle's and the square's 1.
SHAPE_FILL_BOUNDS = (0.64, 0.9)
#: RGB distance from the background above which a pixel stands out.
STANDS_OUT = 0.3


def background_distance(pixels: np.ndarray) -> tuple[np.ndarray, float]:
    """Each pixel's RGB distance [H, W] (float32) from the background, the per-channel upper median of the border
    pixels (corners counted twice, as the TS side walks them), and the largest distance."""
    size = pixels.shape[0]
    p = pixels.astype(np.float64)
    i = np.arange(size)
    last = np.full(size, size - 1)
    zero = np.zeros(size, dtype=int)
    # Per i: (x=i, y=0), (x=i, y=size-1), (x=0, y=i), (x=size-1, y=i).
    ys = np.stack([zero, last, i, i], axis=1).reshape(-1)
    xs = np.stack([i, i, zero, last], axis=1).reshape(-1)
    border = p[ys, xs]  # [4·size, 3]
    bg = np.sort(border, axis=0)[len(border) >> 1]  # [3]
    distance = np.sqrt(((p - bg) ** 2).sum(axis=2)).astype(np.float32)  # [H, W]
    return distance, float(distance.max())


def classify_colour(pixels: np.ndarray) -> tuple[str | None, int]:
    """The named shape colour nearest the mean colour of the shape's core (pixels at least max(0.3, 60% of the
    farthest) from the background), and how many pixels that core has; (None, 0) when none stands out."""
    distance, farthest = background_distance(pixels)
    core = distance >= max(STANDS_OUT, 0.6 * farthest)
    count = int(core.sum())
    if count == 0:
        return None, 0
    mean = pixels.astype(np.float64)[core].sum(axis=0) / count
    best = min(SHAPE_COLOURS, key=lambda name: math.dist(SHAPE_COLOURS[name], mean))
    return best, count


def classify_shape(pixels: np.ndarray) -> str | None:
    """The shape's share of its bounding box (pixels at least half the farthest distance from the background): a
    square fills it, a circle π/4, the apex-up triangle 1/2. None when no pixel stands out."""
    distance, farthest = background_distance(pixels)
    if farthest < STANDS_OUT:
        return None
    ys, xs = np.nonzero(distance >= 0.5 * farthest)
    fill = len(ys) / ((xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1))
    return "triangle" if fill < SHAPE_FILL_BOUNDS[0] else "circle" if fill < SHAPE_FILL_BOUNDS[1] else "square"
