"""`lora_scale` (weight mixing at sampling time) means what diffusers' `cross_attention_kwargs={"scale": …}` means
with the run's exported LoRA file: the torch engine's chain at a scale renders diffusers' pipeline image at that
scale within 1e-5, at 0 the base chain bit for bit; `alignprop sample --lora-scale` (TF.js) renders it too."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from alignprop_cli import Draw, Noise, alignprop_sample, diffusers_sample, draw_noise, load_pipeline
from torch_fixtures import perturb_lora_b, tiny_shapes

from alignprop_torch.config import AlignPropConfig
from alignprop_torch.pipeline import Components, decode_latents, encode_prompts
from alignprop_torch.run_dir_checkpoint import export_lora
from alignprop_torch.sampler import Chain, sample_chain

DRAW = Draw("a red circle", steps=10, guidance=5.0, eta=1.0)
# Max |Δ| per pixel in [0, 1] between the TF.js CLI and diffusers (test_sample_matches_diffusers.py's bound).
PIXEL_TOLERANCE = 1e-3


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Components, Path]:
    """tiny-shapes with its LoRA's B given values (a stand-in for training), and the run's exported LoRA file."""
    c = tiny_shapes()
    perturb_lora_b(c, scale=0.3)
    names = [name for name, p in c.unet.named_parameters() if p.requires_grad]
    lora = {name: p.detach() for name, p in c.unet.named_parameters() if p.requires_grad}
    return c, export_lora(tmp_path_factory.mktemp("run"), names, lora, AlignPropConfig())


def engine_sample(c: Components, noise: Noise, lora_scale: float) -> np.ndarray:
    """The torch engine's guided DDIM chain, no step kept, decoded: [1, H, W, 3] like diffusers' output_type="np"."""
    c.scheduler.set_timesteps(DRAW.steps)
    context = torch.cat([encode_prompts(c, [DRAW.negative_prompt]), encode_prompts(c, [DRAW.prompt])])
    chain = Chain(c.unet, c.scheduler, context, DRAW.guidance, DRAW.eta, list(noise.variance_noise), False)
    chain = dataclasses.replace(chain, lora_scale=lora_scale)
    with torch.no_grad():
        x0 = sample_chain(chain, [False] * DRAW.steps, noise.latents * c.scheduler.init_noise_sigma)
        return decode_latents(c.vae, x0).permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("lora_scale", [0.0, 0.5, 1.0])
def test_the_torch_chain_at_a_lora_scale_renders_diffusers_image_with_the_exported_lora_at_that_scale(
    trained, lora_scale: float
):
    c, lora = trained
    pipe = load_pipeline()
    pipe.load_lora_weights(lora.parent, weight_name=lora.name)
    noise = draw_noise(seed=3, steps=DRAW.steps, eta=DRAW.eta)
    expected = diffusers_sample(pipe, DRAW, noise, lora_scale=lora_scale)
    got = engine_sample(c, noise, lora_scale)
    print(f"lora_scale {lora_scale}: max |Δ| {np.abs(got - expected).max():.2e}")
    assert np.abs(got - expected).max() <= 1e-5


def test_lora_scale_0_is_the_base_chain_bit_for_bit_and_1_the_trained_one(trained):
    c, _ = trained
    noise = draw_noise(seed=4, steps=DRAW.steps, eta=DRAW.eta)
    base = engine_sample(tiny_shapes(lora=False), noise, 1.0)
    assert np.array_equal(engine_sample(c, noise, 0.0), base)
    assert np.abs(engine_sample(c, noise, 1.0) - base).max() > 0.05, "the LoRA moves the image"


def test_alignprop_sample_lora_scale_renders_diffusers_image_at_that_scale(trained, tmp_path: Path):
    _, lora = trained
    pipe = load_pipeline()
    pipe.load_lora_weights(lora.parent, weight_name=lora.name)
    noise = draw_noise(seed=5, steps=DRAW.steps, eta=DRAW.eta)
    expected = diffusers_sample(pipe, DRAW, noise, lora_scale=0.5)
    got = alignprop_sample(DRAW, noise, tmp_path, lora=lora, lora_scale=0.5)
    print(f"alignprop sample --lora-scale 0.5 vs diffusers: max |Δ| {np.abs(got - expected).max():.2e}")
    assert np.abs(got - expected).max() <= PIXEL_TOLERANCE
    assert np.abs(diffusers_sample(pipe, DRAW, noise) - expected).max() > 0.02, "0.5 is not the full LoRA"
