"""python -m oracle [--out DIR]: writes every fixture (default: the repository's test/fixtures/)."""

import argparse
from pathlib import Path

import torch
from diffusers.utils import logging as diffusers_logging
from transformers.utils import logging as transformers_logging

from . import clip_text, clip_vision, ddim, tiny_shapes, unet, vae
from .common import FIXTURES

AREAS = [unet, vae, clip_text, clip_vision, ddim, tiny_shapes]
# The folders under test/fixtures/ the oracle writes, each wholly.
AREA_FOLDERS = sorted({area.FOLDER for area in AREAS})


def generate(root: Path) -> None:
    """Every fixture under `root`. One thread, float64: the same reduction order on every run, so regenerating
    changes no byte."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for area in AREAS:
            area.generate(root)
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m oracle", description=__doc__)
    parser.add_argument("--out", type=Path, default=FIXTURES, help="fixture root (default: %(default)s)")
    out = parser.parse_args().out
    diffusers_logging.set_verbosity_error()  # "modules that should be kept in float32: []" on every .to(float64)
    transformers_logging.set_verbosity_error()
    generate(out)
    print(f"wrote {', '.join(AREA_FOLDERS)} under {out}")


if __name__ == "__main__":
    main()
