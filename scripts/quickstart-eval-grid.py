"""Draws docs/quickstart-eval.png from a run's eval images: the base model's eval set (step 0) above the last step's.

Columns are the colours, rows each shape with its seeds, in the order of the eval set (captions.json); tiles at
twice their size, nearest-neighbour. Usage: python scripts/quickstart-eval-grid.py runs/<name> docs/quickstart-eval.png
"""

import json
import sys
from pathlib import Path

from PIL import Image

SCALE = 2
GAP = 8


def grid(step_dir: Path) -> Image.Image:
    captions = json.loads((step_dir / "captions.json").read_text())
    colours = list(dict.fromkeys(c["prompt_metadata"]["colour"] for c in captions))
    rows = list(dict.fromkeys((c["prompt_metadata"]["shape"], c["seed"]) for c in captions))
    tile = Image.open(step_dir / captions[0]["file"]).size[0] * SCALE
    out = Image.new("RGB", (tile * len(colours), tile * len(rows)), "white")
    for c in captions:
        image = Image.open(step_dir / c["file"]).convert("RGB").resize((tile, tile), Image.NEAREST)
        x = colours.index(c["prompt_metadata"]["colour"])
        y = rows.index((c["prompt_metadata"]["shape"], c["seed"]))
        out.paste(image, (x * tile, y * tile))
    return out


def main(run_dir: str, out: str) -> None:
    steps = sorted((Path(run_dir) / "images" / "eval").glob("step-*"), key=lambda p: int(p.name.split("-")[1]))
    first, last = grid(steps[0]), grid(steps[-1])
    page = Image.new("RGB", (first.width, first.height + GAP + last.height), "white")
    page.paste(first, (0, 0))
    page.paste(last, (0, first.height + GAP))
    page.quantize(256).save(out, optimize=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
