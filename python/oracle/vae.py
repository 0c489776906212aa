"""test/fixtures/vae-clip/ (VAE half): diffusers' AutoencoderKL and its mid-block attention, in float64.

  vae-attention.safetensors  the mid-block Attention, built as UNetMidBlock2D builds it (one head, 16 channels)
  vae.safetensors            a tiny AutoencoderKL's weights, current keys
  vae-old-keys.safetensors   the same weights under the query/key/value/proj_attn names with [C, C, 1, 1] shapes that
                             LDM-era checkpoints carry (diffusers' own loader is checked to map them back)
  vae-io.safetensors         inputs, outputs and gradients of encode and decode (NCHW, PyTorch layout)
"""

from pathlib import Path

import torch
from diffusers import AutoencoderKL
from diffusers.models.attention_processor import Attention

from .common import Seeded, save, sd15_config, state_dict, write_json, write_keys

FOLDER = "vae-clip"

TINY = {
    "block_out_channels": [8, 16],
    "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
    "norm_num_groups": 4,
    "layers_per_block": 1,
    "latent_channels": 4,
}

SD15_VAE = sd15_config("vae")

OLD_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def with_old_keys(vae: AutoencoderKL) -> dict[str, torch.Tensor]:
    """The state dict as LDM-era files name it (their attention projections are 1×1 convolutions); diffusers' loader
    must map those names back to the current ones."""
    old = {}
    for key, t in state_dict(vae).items():
        for new, name in OLD_NAMES.items():
            marker = f".attentions.0.{new}."
            if marker in key:
                key = key.replace(marker, f".attentions.0.{name}.")
                t = t[..., None, None] if key.endswith(".weight") else t
        old[key] = t
    restored = vae._fix_state_dict_keys_on_load(dict(old))
    assert restored.keys() == vae.state_dict().keys(), "diffusers does not map the old attention names back"
    return old


def mid_block_attention(s: Seeded, channels: int, groups: int) -> Attention:
    return s.init(Attention(channels, heads=1, dim_head=channels, eps=1e-6, norm_num_groups=groups,
                            residual_connection=True, bias=True, upcast_softmax=True,
                            _from_deprecated_attn_block=True))


def generate(root: Path) -> None:
    out = root / FOLDER
    s = Seeded(1234)
    attention = mid_block_attention(s, 16, 4)
    attention_in = s.randn(2, 16, 4, 6)
    vae = s.init(AutoencoderKL(**TINY))
    images = s.randn(2, 3, 16, 12).clamp(-1, 1).requires_grad_(True)
    posterior = vae.encode(images).latent_dist
    (grad_images,) = torch.autograd.grad(posterior.mean.square().mean(), images)
    latents = s.randn(2, 4, 8, 6).requires_grad_(True)
    decoded = vae.decode(latents).sample
    (grad_latents,) = torch.autograd.grad(decoded.square().mean(), latents)  # AlignProp backpropagates through decode
    save(out / "vae-attention.safetensors", state_dict(attention))
    save(out / "vae.safetensors", state_dict(vae))
    save(out / "vae-old-keys.safetensors", with_old_keys(vae))
    save(out / "vae-io.safetensors", {
        "attention.input": attention_in, "attention.output": attention(attention_in),
        "encode.images": images, "encode.mean": posterior.mean, "encode.logvar": posterior.logvar,
        "encode.grad_mean_square": grad_images,
        "decode.latents": latents, "decode.images": decoded, "decode.grad_mean_square": grad_latents,
    })
    with torch.device("meta"):
        sd15 = AutoencoderKL.from_config(SD15_VAE)
    write_json(out / "sd15-vae.config.json", SD15_VAE)
    write_keys(out / "sd15-vae.keys.txt", sd15, "vae state-dict keys and shapes (PyTorch layout) of diffusers' "
               "AutoencoderKL for the Stable Diffusion v1.5 config.")
