"""LoRA files cross both ways with alpha ≠ r: a LoRA a TF.js `alignprop train` run wrote loads with diffusers'
`load_lora_weights` (through peft) and renders what `alignprop sample --lora` renders — also when the metadata is
ignored, as diffusers before 0.34 does; a LoRA trained with diffusers + peft and saved with `save_lora_weights` renders
in `alignprop sample --lora` what the diffusers pipeline renders."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from alignprop_cli import Draw, alignprop, alignprop_sample, diffusers_sample, draw_noise, load_pipeline
from diffusers import StableDiffusionPipeline
from peft import LoraConfig
from peft.utils import get_peft_model_state_dict
from safetensors import safe_open
from safetensors.torch import load_file

# Max |Δ| per pixel in [0, 1] between the engines; measured ≤ 2.1e-6.
PIXEL_TOLERANCE = 1e-3
# A LoRA must move the image at least this much, or the comparisons above would pass with it ignored.
LORA_EFFECT = 0.05
RANK, ALPHA = 4, 8
TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]
DRAW = Draw("a red circle", steps=20, guidance=5.0, eta=1.0)


@pytest.fixture(scope="module")
def tfjs_lora(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pytorch_lora_weights.safetensors from three AdamW steps of a TF.js AlignProp run with r=4, alpha=8."""
    runs = tmp_path_factory.mktemp("runs")
    alignprop(
        "train", "--ci", "--runs_dir", str(runs), "--run_name", "crossing", "--num_epochs", "3",
        "--sample_num_steps", "4", "--train_learning_rate", "0.05", "--train_max_grad_norm", "100",
        "--lora_rank", str(RANK), "--lora_alpha", str(ALPHA),
    )  # fmt: skip
    return runs / "crossing" / "pytorch_lora_weights.safetensors"


def lora_metadata(path: Path) -> dict:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["lora_adapter_metadata"])


def test_a_tfjs_lora_loads_through_peft_and_renders_the_alignprop_image(tfjs_lora: Path, tmp_path: Path):
    assert lora_metadata(tfjs_lora)["unet.lora_alpha"] == RANK, "alpha/r is folded into the up weights"
    pipe = load_pipeline()
    pipe.load_lora_weights(tfjs_lora.parent, weight_name=tfjs_lora.name)
    (config,) = pipe.unet.peft_config.values()
    assert (config.r, config.lora_alpha) == (RANK, RANK)
    noise = draw_noise(seed=7, steps=DRAW.steps, eta=DRAW.eta)
    expected = diffusers_sample(pipe, DRAW, noise)
    got = alignprop_sample(DRAW, noise, tmp_path, lora=tfjs_lora)
    assert np.abs(got - expected).max() <= PIXEL_TOLERANCE
    assert np.abs(alignprop_sample(DRAW, noise, tmp_path) - got).max() > LORA_EFFECT


def test_a_tfjs_lora_loads_at_the_same_strength_when_its_metadata_is_ignored(tfjs_lora: Path, tmp_path: Path):
    """diffusers < 0.34 reads no lora_adapter_metadata and takes alpha = r: the tensors alone must carry the scale."""
    pipe = load_pipeline()
    pipe.load_lora_weights(load_file(str(tfjs_lora)))
    noise = draw_noise(seed=8, steps=DRAW.steps, eta=DRAW.eta)
    expected = diffusers_sample(pipe, DRAW, noise)
    assert np.abs(alignprop_sample(DRAW, noise, tmp_path, lora=tfjs_lora) - expected).max() <= PIXEL_TOLERANCE


def train_peft_lora(pipe: StableDiffusionPipeline, steps: int = 3) -> None:
    """unet.add_adapter(LoraConfig(r=4, lora_alpha=8)), then a few AdamW steps on the ε-prediction loss."""
    pipe.unet.requires_grad_(False)
    pipe.unet.add_adapter(LoraConfig(r=RANK, lora_alpha=ALPHA, init_lora_weights="gaussian", target_modules=TARGETS))
    params = [p for p in pipe.unet.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=0.05)
    prompts = ["a red circle", "a large blue square", "a small green triangle at the bottom"]
    tokens = pipe.tokenizer(prompts, padding="max_length", max_length=pipe.tokenizer.model_max_length,
                            truncation=True, return_tensors="pt")  # fmt: skip
    with torch.no_grad():
        context = pipe.text_encoder(tokens.input_ids)[0]
    generator = torch.Generator().manual_seed(0)
    for _ in range(steps):
        x0 = torch.randn((len(prompts), 4, 8, 8), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        t = torch.randint(0, pipe.scheduler.config.num_train_timesteps, (len(prompts),), generator=generator)
        prediction = pipe.unet(pipe.scheduler.add_noise(x0, noise, t), t, context).sample
        loss = torch.nn.functional.mse_loss(prediction, noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    pipe.unet.requires_grad_(False)


def test_a_diffusers_peft_lora_renders_the_same_image_in_alignprop_sample(tmp_path: Path):
    pipe = load_pipeline()
    train_peft_lora(pipe)
    saved = tmp_path / "peft"
    StableDiffusionPipeline.save_lora_weights(
        saved,
        unet_lora_layers=get_peft_model_state_dict(pipe.unet),
        unet_lora_adapter_metadata=pipe.unet.peft_config["default"].to_dict(),
    )
    lora = saved / "pytorch_lora_weights.safetensors"
    metadata = lora_metadata(lora)
    assert (metadata["unet.r"], metadata["unet.lora_alpha"]) == (RANK, ALPHA), "unfolded: the metadata carries alpha"
    noise = draw_noise(seed=9, steps=DRAW.steps, eta=DRAW.eta)
    expected = diffusers_sample(pipe, DRAW, noise)
    got = alignprop_sample(DRAW, noise, tmp_path, lora=lora)
    assert np.abs(got - expected).max() <= PIXEL_TOLERANCE
    assert np.abs(alignprop_sample(DRAW, noise, tmp_path) - got).max() > LORA_EFFECT
