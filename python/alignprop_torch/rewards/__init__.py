"""Rewards by name, as the TS registry names them (src/rewards/registry.ts): `brightness`, `saturation`, `contrast`,
`hue[:target]`, `aesthetic:head=…[,clip=…][,resample=…]`, `clip-score[:clip=…][,resample=…]`, and the embedded
pipeline's `tiny-aesthetic` and `tiny-clip-score` (local files beside models/tiny-shapes, no Hub).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..pipeline import TINY_SHAPES
from .aesthetic import load_aesthetic_reward
from .builtin import brightness, contrast, hue, saturation
from .clip_preprocess import CLIP_RESAMPLES
from .clip_score import load_clip_score_reward
from .reward import Reward, require_differentiable, score_images

__all__ = ["BUILTIN_REWARDS", "Reward", "require_differentiable", "resolve_reward", "score_images"]

#: The CLIP model LAION's head and the public clip-score read.
CLIP_VIT_L14 = "openai/clip-vit-large-patch14"


def parse_args(name: str, arg: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """`k=v,k=v` → dict; unknown keys and a bad resample are errors naming the reward."""
    args: dict[str, str] = {}
    for part in filter(None, (arg or "").split(",")):
        key, eq, value = part.partition("=")
        if not eq or key not in allowed:
            raise ValueError(f"reward {name}: {part!r} is not one of {', '.join(k + '=…' for k in allowed)}")
        args[key] = value
    if args.get("resample", "bicubic") not in CLIP_RESAMPLES:
        raise ValueError(f"reward {name}: resample={args['resample']} must be one of {', '.join(CLIP_RESAMPLES)}")
    return args


def aesthetic(arg: str | None) -> Reward:
    args = parse_args("aesthetic", arg, ("head", "clip", "resample"))
    if "head" not in args:
        raise ValueError(
            "reward aesthetic needs the head's weights as safetensors: convert aesthetic-model.pth once with "
            "scripts/convert-aesthetic-head.py, then use --reward aesthetic:head=./aesthetic-head.safetensors"
        )
    return load_aesthetic_reward(
        Path(args["head"]), args.get("clip", CLIP_VIT_L14), resample=args.get("resample", "bicubic")
    )


def clip_score(arg: str | None) -> Reward:
    args = parse_args("clip-score", arg, ("clip", "resample"))
    return load_clip_score_reward(args.get("clip", CLIP_VIT_L14), resample=args.get("resample", "bicubic"))


#: name → factory taking the text after "name:" (None when none was given).
BUILTINS: dict[str, Callable[[str | None], Reward]] = {
    "brightness": lambda _: brightness,
    "saturation": lambda _: saturation,
    "contrast": lambda _: contrast,
    "hue": lambda target: hue(target or "red"),
    "aesthetic": aesthetic,
    "clip-score": clip_score,
    "tiny-aesthetic": lambda _: load_aesthetic_reward(
        TINY_SHAPES / "aesthetic" / "head.safetensors", str(TINY_SHAPES / "clip"), name="tiny-aesthetic"
    ),
    "tiny-clip-score": lambda _: load_clip_score_reward(str(TINY_SHAPES / "clip"), name="tiny-clip-score"),
}
TAKES_ARGUMENT = {"hue", "aesthetic", "clip-score"}
BUILTIN_REWARDS = tuple(BUILTINS)


def resolve_reward(spec: str) -> Reward:
    """A built-in by name with an optional ":arg"; its networks stay on the CPU until `Reward.to(device)`."""
    name, colon, arg = spec.partition(":")
    make = BUILTINS.get(name)
    if make is None:
        raise ValueError(f"reward={spec!r} is not a built-in of the torch engine ({', '.join(BUILTIN_REWARDS)})")
    if colon and name not in TAKES_ARGUMENT:
        raise ValueError(f"reward={spec!r}: {name} takes no argument")
    return make(arg if colon else None)
