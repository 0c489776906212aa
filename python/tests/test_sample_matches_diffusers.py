"""`alignprop sample` renders what diffusers' StableDiffusionPipeline renders from models/tiny-shapes, given the same
initial latents, prompts, guidance and DDIM noise; each component loads in diffusers/transformers with no missing,
unexpected or mismatched keys."""

from pathlib import Path

import numpy as np
import pytest
from alignprop_cli import TINY_SHAPES, Draw, alignprop_sample, diffusers_sample, draw_noise, load_pipeline
from diffusers import AutoencoderKL, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextModel

# Max |Δ| per pixel in [0, 1]; measured ≤ 6.2e-6 (float32 on both sides).
PIXEL_TOLERANCE = 1e-3

DRAWS = [
    Draw("a red circle", steps=20, guidance=5.0, eta=0.0),
    Draw("a large blue square at the top left", steps=20, guidance=7.5, eta=1.0, negative_prompt="green"),
    Draw("a small yellow triangle", steps=10, guidance=1.0, eta=0.0),
    Draw("a purple circle in the centre", steps=10, guidance=3.0, eta=1.0),
]


@pytest.fixture(scope="module")
def pipe() -> StableDiffusionPipeline:
    return load_pipeline()


@pytest.mark.parametrize(
    ("model_class", "subfolder"),
    [(UNet2DConditionModel, "unet"), (AutoencoderKL, "vae"), (CLIPTextModel, "text_encoder")],
)
def test_each_component_loads_with_no_missing_unexpected_or_mismatched_keys(model_class, subfolder):
    _, info = model_class.from_pretrained(TINY_SHAPES, subfolder=subfolder, output_loading_info=True)
    problems = {key: info[key] for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs")}
    assert problems == {key: type(value)() for key, value in problems.items()}


@pytest.mark.parametrize("draw", DRAWS, ids=lambda d: f"{d.prompt}-eta{d.eta}-w{d.guidance}")
def test_alignprop_sample_gives_the_diffusers_image(pipe, draw: Draw, tmp_path: Path):
    noise = draw_noise(seed=len(draw.prompt), steps=draw.steps, eta=draw.eta)
    expected = diffusers_sample(pipe, draw, noise)
    got = alignprop_sample(draw, noise, tmp_path)
    assert got.shape == expected.shape == (1, 32, 32, 3)
    assert np.abs(got - expected).max() <= PIXEL_TOLERANCE


def test_the_given_noise_decides_the_image(tmp_path: Path):
    """Guards the comparison above: the latents and the per-step noise are really used."""
    draw = Draw("a green square", steps=10, guidance=5.0, eta=1.0)
    base = alignprop_sample(draw, draw_noise(seed=1, steps=10, eta=1.0), tmp_path)
    other_latents = draw_noise(seed=2, steps=10, eta=1.0)
    same_latents_other_noise = draw_noise(seed=1, steps=10, eta=1.0)
    same_latents_other_noise.variance_noise.neg_()
    assert np.abs(alignprop_sample(draw, other_latents, tmp_path) - base).max() > 0.1
    assert np.abs(alignprop_sample(draw, same_latents_other_noise, tmp_path) - base).max() > 0.1
