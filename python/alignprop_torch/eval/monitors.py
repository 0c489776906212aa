"""The monitors of src/eval/monitors/ with the same names and definitions: each measures the eval samples as the run
saved them (8-bit RGB as float32 / 255, [N, H, W, 3]) and reports some of MONITOR_VALUES. `reward`: mean training
reward; `shape-fidelity`: share of samples showing the prompted colour (`fidelity`, `fidelity_colour`) and shape
(`fidelity_shape`) by the held-out classifiers; `clip-fidelity`: mean CLIP score; `diversity`: mean pairwise RMS
pixel distance of one prompt's samples, averaged over prompts with two or more; `drift`: mean RMS pixel distance of
each sample from the base model's (step 0) for the same prompt and seed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from alignprop_torch.eval.shapes_classifier import SHAPE_COLOURS, classify_colour, classify_shape
from alignprop_torch.prompts import SHAPES

#: Monitors a run can list in `eval_monitors` (src/eval/monitor-names.ts).
MONITOR_NAMES = ("reward", "shape-fidelity", "clip-fidelity", "diversity", "drift")
#: Every value a monitor reports, and which way is better (for `best_metric`).
MONITOR_VALUES = {
    "reward": "higher",
    "fidelity": "higher",
    "fidelity_colour": "higher",
    "fidelity_shape": "higher",
    "diversity": "higher",
    "drift": "lower",
}


@dataclass
class EvalSamples:
    #: Per sample, prompt-major.
    prompts: list[str]
    metadata: list[dict[str, Any]]
    #: [N, H, W, 3] float32 in [0, 1]: the saved 8-bit images / 255.
    pixels: np.ndarray
    #: The run's training reward of each sample.
    rewards: list[float]
    #: The base model's samples for the same (prompt, seed) pairs, like `pixels`; None when not known.
    base: np.ndarray | None = None


Monitor = Callable[[EvalSamples], dict[str, float]]


def parse_shape_prompt(prompt: str) -> dict[str, str]:
    """The colour and shape words a prompt names, each if any (src/data/shape-prompts.ts's parseShapePrompt)."""
    words = re.split(r"[^a-z]+", prompt.lower())
    colour = next((c for c in SHAPE_COLOURS if c in words), None)
    shape = next((s for s in SHAPES if s in words), None)
    return {**({"colour": colour} if colour else {}), **({"shape": shape} if shape else {})}


def rms_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Root-mean-square difference of two images' channel values, in [0, 1]: 0 for identical images."""
    return float(np.sqrt(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def reward_monitor(s: EvalSamples) -> dict[str, float]:
    return {"reward": mean(s.rewards)} if s.rewards else {}


def shape_fidelity_monitor(s: EvalSamples) -> dict[str, float]:
    if s.pixels.shape[1] != s.pixels.shape[2]:
        return {}
    colour: list[bool] = []
    shape: list[bool] = []
    for m, pixels in zip(s.metadata, s.pixels, strict=True):
        if isinstance(m.get("colour"), str):
            colour.append(classify_colour(pixels)[0] == m["colour"])
        if isinstance(m.get("shape"), str):
            shape.append(classify_shape(pixels) == m["shape"])
    out: dict[str, float] = {}
    if colour:
        out["fidelity"] = out["fidelity_colour"] = sum(colour) / len(colour)
    if shape:
        out["fidelity_shape"] = sum(shape) / len(shape)
    return out


def diversity_monitor(s: EvalSamples) -> dict[str, float]:
    by_prompt: dict[str, list[int]] = {}
    for i, prompt in enumerate(s.prompts):
        by_prompt.setdefault(prompt, []).append(i)
    per_prompt = [
        mean([rms_distance(s.pixels[a], s.pixels[b]) for a, b in combinations(group, 2)])
        for group in by_prompt.values()
        if len(group) >= 2
    ]
    return {"diversity": mean(per_prompt)} if per_prompt else {}


def drift_monitor(s: EvalSamples) -> dict[str, float]:
    if s.base is None or s.base.shape != s.pixels.shape:
        return {}
    return {"drift": mean([rms_distance(p, b) for p, b in zip(s.pixels, s.base, strict=True)])}


def clip_fidelity_monitor() -> Monitor:
    """CLIP score (the `clip-score` reward, openai/clip-vit-large-patch14) of image and prompt, averaged."""
    import torch

    from alignprop_torch.rewards import resolve_reward, score_images

    clip = resolve_reward("clip-score")

    def measure(s: EvalSamples) -> dict[str, float]:
        if not s.prompts:
            return {}
        scores: list[float] = []
        for start in range(0, len(s.prompts), CLIP_BATCH):
            end = start + CLIP_BATCH
            images = torch.from_numpy(s.pixels[start:end]).permute(0, 3, 1, 2)  # [B, 3, H, W]
            with torch.no_grad():
                scores += score_images(clip, images, s.prompts[start:end], s.metadata[start:end])[0].float().tolist()
        return {"fidelity": mean(scores)}

    return measure


#: Images scored per CLIP forward pass.
CLIP_BATCH = 8

MONITORS: dict[str, Callable[[], Monitor]] = {
    "reward": lambda: reward_monitor,
    "shape-fidelity": lambda: shape_fidelity_monitor,
    "clip-fidelity": clip_fidelity_monitor,
    "diversity": lambda: diversity_monitor,
    "drift": lambda: drift_monitor,
}


def load_monitors(names: list[str]) -> list[Monitor]:
    """The monitors by name (`eval_monitors`), each loaded once when the run starts."""
    unknown = [name for name in names if name not in MONITORS]
    if unknown:
        raise ValueError(f"eval_monitors: {unknown[0]!r} is not a monitor; use some of {', '.join(MONITOR_NAMES)}")
    return [MONITORS[name]() for name in names]


def measure(monitors: list[Monitor], samples: EvalSamples) -> dict[str, float]:
    out: dict[str, float] = {}
    for monitor in monitors:
        out |= monitor(samples)
    return out
