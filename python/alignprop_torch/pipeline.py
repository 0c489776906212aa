"""The Stable Diffusion pipeline's components as diffusers and transformers define them, loaded from a folder in
diffusers' layout (`model_index.json`, `unet/`, `vae/`, …) or built from component configs with random weights, and
the two pipeline steps the trainer runs outside the chain: prompt encoding and latent decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
TINY_SHAPES = MODELS_DIR / "tiny-shapes"


@dataclass
class Components:
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    text_encoder: CLIPTextModel
    tokenizer: CLIPTokenizer
    scheduler: DDIMScheduler

    def to(self, device: torch.device, dtype: torch.dtype) -> Components:
        """Moves the three networks to `device` in `dtype` and freezes them; call it before attaching LoRA."""
        for module in (self.unet, self.vae, self.text_encoder):
            module.requires_grad_(False)
            module.to(device=device, dtype=dtype)
        return self


def model_source(model: str) -> str:
    """What to load for a config's `model`: the embedded "tiny-shapes" folder, else the folder or Hub id as given."""
    return str(TINY_SHAPES) if model == "tiny-shapes" else model


#: The three networks in the order they load, as src/models/pipeline.ts loads them.
MODELS = ("unet", "vae", "text_encoder")


def load_pipeline(path: str | Path, on_component: Callable[[str, int], None] | None = None) -> Components:
    """A pipeline in diffusers' layout, a folder or Hub id (the scheduler is loaded as DDIM, whatever it names).
    `on_component(name, loaded)` is told before each of MODELS loads, with how many have loaded."""
    classes = {"unet": UNet2DConditionModel, "vae": AutoencoderKL, "text_encoder": CLIPTextModel}
    models = {}
    for done, name in enumerate(MODELS):
        if on_component is not None:
            on_component(name, done)
        models[name] = classes[name].from_pretrained(path, subfolder=name)
    return Components(
        **models,
        tokenizer=CLIPTokenizer.from_pretrained(path, subfolder="tokenizer"),
        scheduler=DDIMScheduler.from_pretrained(path, subfolder="scheduler"),
    )


def build_pipeline(configs: dict[str, dict], tokenizer: CLIPTokenizer, device: torch.device) -> Components:
    """Random weights from component configs (`unet`, `vae`, `text_encoder`, `scheduler`), made directly on `device`."""
    with torch.device(device):
        return Components(
            unet=UNet2DConditionModel.from_config(configs["unet"]),
            vae=AutoencoderKL.from_config(configs["vae"]),
            text_encoder=CLIPTextModel(CLIPTextConfig(**configs["text_encoder"])),
            tokenizer=tokenizer,
            scheduler=DDIMScheduler.from_config(configs["scheduler"]),
        )


def image_size(c: Components) -> int:
    """The side of the images the pipeline makes: the UNet's sample size × the VAE's 2^(levels − 1) upsampling, as
    StableDiffusionPipeline sizes them."""
    return c.unet.config.sample_size * 2 ** (len(c.vae.config.block_out_channels) - 1)


def encode_prompts(c: Components, prompts: Sequence[str]) -> torch.Tensor:
    """The text encoder's last hidden states, padded to the tokenizer's length as the pipeline does: [B, T, D]."""
    tokens = c.tokenizer(
        list(prompts),
        padding="max_length",
        max_length=c.tokenizer.model_max_length,
        truncation=True,
        return_tensors="pt",
    )
    with torch.no_grad():
        return c.text_encoder(tokens.input_ids.to(c.text_encoder.device))[0]


def decode_latents(vae: AutoencoderKL, latents: torch.Tensor) -> torch.Tensor:
    """latents [B, C, h, w] → images [B, 3, H, W] in [0, 1]: decode latents / scaling_factor, map [-1, 1] → [0, 1]."""
    decoded = vae.decode(latents / vae.config.scaling_factor).sample
    return (decoded / 2 + 0.5).clamp(0, 1)
