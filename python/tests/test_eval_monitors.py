"""The torch engine's eval monitors (alignprop_torch/eval/): the shapes classifiers agree with the TS ones on every
image of the cross-engine fixture (test/helpers/shapes-fixture.ts writes it with the TS labels), and the monitors and
the best-checkpoint rule behave on known inputs as src/eval/ defines them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alignprop_torch.eval.best import BestTracker
from alignprop_torch.eval.monitors import EvalSamples, load_monitors, measure, parse_shape_prompt
from alignprop_torch.eval.shapes_classifier import classify_colour, classify_shape
from alignprop_torch.png import as_floats, read_png

FIXTURE = Path(__file__).parent / "fixtures" / "shapes-classifier"
LABELS = json.loads((FIXTURE / "labels.json").read_text())


@pytest.mark.parametrize("label", LABELS, ids=[label["file"] for label in LABELS])
def test_classifiers_agree_with_the_ts_ones_on_the_fixture(label: dict) -> None:
    pixels = as_floats(read_png(FIXTURE / label["file"]))
    assert classify_colour(pixels) == (label["colour"], label["shapePixels"])
    assert classify_shape(pixels) == label["shape"]


def fixture_samples(files: list[str], prompts: list[str]) -> EvalSamples:
    pixels = np.stack([as_floats(read_png(FIXTURE / f)) for f in files])
    return EvalSamples(prompts, [parse_shape_prompt(p) for p in prompts], pixels, [0.25] * len(files), pixels.copy())


def test_monitors_on_known_inputs() -> None:
    clean = next(label for label in LABELS if label["colour"] and label["shape"])
    right = f"a {clean['colour']} {clean['shape']}"
    wrong_colour = "a red circle" if clean["colour"] != "red" else "a blue circle"
    s = fixture_samples([clean["file"]] * 3, [right, right, wrong_colour])
    values = measure(load_monitors(["reward", "shape-fidelity", "diversity", "drift"]), s)
    assert values["reward"] == 0.25
    assert values["fidelity"] == values["fidelity_colour"] == pytest.approx(2 / 3)
    assert values["fidelity_shape"] == pytest.approx((2 + (clean["shape"] == "circle")) / 3)
    assert values["diversity"] == 0  # identical images of one prompt
    assert values["drift"] == 0  # the base samples themselves
    other = fixture_samples([LABELS[0]["file"], LABELS[1]["file"]], ["a cat", "a cat"])
    other.base = None
    measured = measure(load_monitors(["shape-fidelity", "diversity", "drift"]), other)
    a, b = other.pixels
    assert measured == {"diversity": pytest.approx(float(np.sqrt(np.mean((a.astype(float) - b) ** 2))))}


def test_an_unknown_monitor_is_named() -> None:
    with pytest.raises(ValueError, match="eval_monitors: 'sharpness' is not a monitor"):
        load_monitors(["reward", "sharpness"])


def test_best_follows_the_metric_direction_and_the_fidelity_floor() -> None:
    reward = BestTracker("reward", 0.8)
    picks = [
        reward.consider(step, m)
        for step, m in [
            (0, {"reward": 0.5, "fidelity": 0.9}),
            (10, {"reward": 0.7, "fidelity": 0.7}),  # above in reward, under the floor
            (20, {"reward": 0.6, "fidelity": 0.85}),
            (30, {"reward": 0.6, "fidelity": 0.95}),  # a tie keeps the earlier
            (40, {"fidelity": 0.99}),  # no reward: does not qualify
        ]
    ]
    assert picks == [True, False, True, False, False]
    assert reward.best is not None and reward.best.step == 20
    drift = BestTracker("drift", None)
    assert [drift.consider(s, {"drift": d}) for s, d in [(0, 0.0), (1, 0.1), (2, float("nan"))]] == [True, False, False]
    with pytest.raises(ValueError, match="best_metric='loss'"):
        BestTracker("loss", None)
