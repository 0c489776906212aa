"""test/fixtures/tiny-shapes/: the embedded default pipeline, models/tiny-shapes, loaded by diffusers and
transformers themselves (no missing, unexpected or mismatched key) and run in float64 on fixed inputs.

  components.safetensors  text.ids → text.last_hidden_state (CLIPTextModel); unet.latents, unet.timestep and the
                          text states → unet.output (UNet2DConditionModel); unet.latents → vae.images (decode).
                          Latents are NCHW (PyTorch layout).

These fixtures follow the committed weights: after `alignprop pretrain` rewrites models/tiny-shapes, regenerate them.
"""

from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from transformers import CLIPTextModel, CLIPTokenizer

from .common import REPO, Seeded, save

FOLDER = "tiny-shapes"
MODEL = REPO / "models" / "tiny-shapes"
PROMPTS = ["a red circle", "a large blue square in the top left corner on a green background"]


def assert_loaded_exactly(component: str, info: dict) -> None:
    problems = {k: v for k, v in info.items() if k != "error_msgs" and v}
    assert not problems and not info.get("error_msgs"), f"models/tiny-shapes/{component}: {problems}"


def generate(root: Path) -> None:
    unet, info = UNet2DConditionModel.from_pretrained(MODEL, subfolder="unet", torch_dtype=torch.float64,
                                                      output_loading_info=True)
    assert_loaded_exactly("unet", info)
    vae, info = AutoencoderKL.from_pretrained(MODEL, subfolder="vae", torch_dtype=torch.float64,
                                              output_loading_info=True)
    assert_loaded_exactly("vae", info)
    text_encoder, info = CLIPTextModel.from_pretrained(MODEL / "text_encoder", dtype=torch.float64,
                                                       output_loading_info=True)
    assert_loaded_exactly("text_encoder", info)
    tokenizer = CLIPTokenizer.from_pretrained(MODEL / "tokenizer")

    ids = tokenizer(PROMPTS, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids
    s = Seeded(7)
    size = unet.config.sample_size
    latents = s.randn(2, unet.config.in_channels, size, size)
    timestep = torch.tensor(501.0, dtype=torch.float64)
    with torch.no_grad():
        states = text_encoder(ids).last_hidden_state
        output = unet(latents, timestep, encoder_hidden_states=states).sample
        images = vae.decode(latents).sample
    save(root / FOLDER / "components.safetensors", {
        "text.ids": ids.double(), "text.last_hidden_state": states, "unet.latents": latents,
        "unet.timestep": timestep.reshape(1), "unet.output": output, "vae.images": images,
    })
