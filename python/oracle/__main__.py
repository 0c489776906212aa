"""python -m oracle [--out DIR]: writes every fixture (default: the repository's test/fixtures/)."""

import argparse
from pathlib import Path

import torch

from . import clip_text, clip_vision, ddim, unet, vae
from .common import FIXTURES

AREAS = [unet, vae, clip_text, clip_vision, ddim]


def generate(root: Path) -> None:
    # One thread and float64: the same reduction order on every run, so regenerating changes no byte.
    torch.set_num_threads(1)
    for area in AREAS:
        area.generate(root)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m oracle", description=__doc__)
    parser.add_argument("--out", type=Path, default=FIXTURES, help="fixture root (default: %(default)s)")
    generate(parser.parse_args().out)


if __name__ == "__main__":
    main()
