"""Where training prompts come from (the config's `prompts`, TRL's `prompt_fn`): the TS side's built-in sources
(src/data/prompt-source.ts, src/data/shape-prompts.ts) or a text file with one prompt per line. Every draw uses the
job's seeded `torch.Generator`, so runs and resumes repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

Prompt = tuple[str, dict[str, Any]]
PromptSource = Callable[[torch.Generator], Prompt]

COLOURS = ("red", "green", "blue", "yellow", "cyan", "magenta", "orange", "white")
SHAPES = ("circle", "square", "triangle")
#: The simple-animals prompts DDPO/AlignProp examples start from.
ANIMALS = (
    "cat dog horse monkey rabbit zebra spider bird sheep deer cow goat lion tiger bear raccoon fox wolf lizard beetle "
    "ant butterfly fish shark whale dolphin squirrel mouse rat snake turtle frog chicken duck goose bee pig turkey fly "
    "llama camel bat gorilla hedgehog kangaroo"
).split()


def pick(items: Sequence[str], generator: torch.Generator) -> str:
    return items[int(torch.randint(len(items), (), generator=generator))]


def shapes(generator: torch.Generator) -> Prompt:
    colour, shape = pick(COLOURS, generator), pick(SHAPES, generator)
    return f"a {colour} {shape}", {"colour": colour, "shape": shape}


def animals(generator: torch.Generator) -> Prompt:
    animal = pick(ANIMALS, generator)
    return animal, {"animal": animal}


BUILTIN: dict[str, PromptSource] = {"animals": animals, "shapes": shapes}


def prompt_source_for(spec: str, fallback: str = "animals") -> PromptSource:
    """`spec`: "" (the default, `fallback`), a built-in name, or a path to a text file of prompts."""
    name = spec or fallback
    if name in BUILTIN:
        return BUILTIN[name]
    path = Path(name)
    if not path.is_file():
        raise ValueError(
            f"prompts={spec!r} is neither a built-in source ({', '.join(BUILTIN)}) nor an existing text file"
        )
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"prompts={spec!r}: the file has no prompts (one per line)")
    return lambda generator: (pick(lines, generator), {"source": name})
