"""test/fixtures/clip-vision/: transformers' CLIPVisionModelWithProjection and CLIPModel, CLIP image preprocessing,
and the LAION aesthetic head on CLIP vision (TRL's AestheticScorer), in float64.

  vit-l-14.config.json, vit-l-14.keys.txt   openai/clip-vit-large-patch14's config and every CLIPModel key with its
                                            shape, from transformers' CLIPModel on the meta device
  vision.safetensors      tiny CLIPVisionModelWithProjection weights (+ the int64 position_ids buffer older files hold)
  vision-io.safetensors   pixel values and outputs (quick_gelu and gelu, same weights), NCHW
  preprocess.safetensors  the differentiable preprocessing (see `preprocess`), its gradient, and transformers'
                          CLIPImageProcessor (PIL backend) on an 8-bit image
  clip.safetensors        tiny CLIPModel weights, whose vision half is vision.safetensors; clip-io.safetensors its
                          inputs, normalised embeddings and logits
  aesthetic.safetensors   a tiny-width LAION head (keys layers.0/2/4/6/7)
  aesthetic-io.safetensors  images → preprocess → tiny vision → L2 norm → head: rewards and d(sum rewards)/d(images)
"""

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPConfig, CLIPModel, CLIPVisionConfig, CLIPVisionModelWithProjection
from transformers.image_transforms import get_resize_output_image_size
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, ChannelDimension
from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

from .common import Seeded, save, state_dict, write_json, write_keys

FOLDER = "clip-vision"

VISION = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
          "image_size": 32, "patch_size": 8, "projection_dim": 16, "layer_norm_eps": 1e-5}
TEXT = {"vocab_size": 874, "hidden_size": 24, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 2, "max_position_embeddings": 77, "layer_norm_eps": 1e-5,
        "bos_token_id": 872, "eos_token_id": 873, "pad_token_id": 873}

VIT_L_14 = {
    "architectures": ["CLIPModel"],
    "model_type": "clip",
    "projection_dim": 768,
    "logit_scale_init_value": 2.6592,
    "text_config": {
        "vocab_size": 49408, "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
        "num_attention_heads": 12, "max_position_embeddings": 77, "hidden_act": "quick_gelu",
        "layer_norm_eps": 1e-05, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1, "projection_dim": 768,
    },
    "vision_config": {
        "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
        "image_size": 224, "patch_size": 14, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05,
        "projection_dim": 768,
    },
}

# LAION's improved-aesthetic-predictor MLP as TRL's AestheticScorer holds it, with tiny widths (ViT-L/14: 768 → 1024
# → 128 → 64 → 16 → 1). Dropout is inactive in eval, so the head is affine.
HEAD_WIDTHS = [16, 32, 16, 8, 4, 1]


class AestheticMLP(nn.Module):
    def __init__(self, widths: list[int]) -> None:
        super().__init__()
        w = widths
        self.layers = nn.Sequential(nn.Linear(w[0], w[1]), nn.Dropout(0.2), nn.Linear(w[1], w[2]), nn.Dropout(0.2),
                                    nn.Linear(w[2], w[3]), nn.Dropout(0.1), nn.Linear(w[3], w[4]),
                                    nn.Linear(w[4], w[5]))

    def forward(self, embed: torch.Tensor) -> torch.Tensor:
        return self.layers(embed)


def preprocess(images: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    """CLIPImageProcessor's torchvision backend on float images [B, 3, H, W] in [0, 1], differentiably.

    transformers' output size for the shortest edge; torchvision's resize of a float tensor, which is torch's
    antialiased interpolate; the centre crop at floor offsets (transformers' `center_crop`); then (x − mean) / std.
    """
    h, w = get_resize_output_image_size(images[0].detach().numpy(), size=size, default_to_square=False,
                                        input_data_format=ChannelDimension.FIRST)
    resized = F.interpolate(images, size=(h, w), mode=mode, align_corners=False, antialias=True)
    top, left = (h - size) // 2, (w - size) // 2
    cropped = resized[..., top:top + size, left:left + size]
    mean = torch.tensor(OPENAI_CLIP_MEAN, dtype=images.dtype)[:, None, None]
    std = torch.tensor(OPENAI_CLIP_STD, dtype=images.dtype)[:, None, None]
    return (cropped - mean) / std


def smooth_image(height: int, width: int) -> np.ndarray:
    """An 8-bit [H, W, 3] image of low-frequency patterns, as a photo is, with no bicubic overshoot past 0 or 255."""
    y, x = np.meshgrid(np.linspace(0, 1, height), np.linspace(0, 1, width), indexing="ij")
    channels = [0.5 + 0.4 * np.sin(5 * x + 2 * y), 0.5 + 0.4 * np.cos(3 * x * y + 4 * y), (x + y) / 2]
    return np.round(np.stack(channels, -1) * 255).astype(np.uint8)


def vision_config(act: str) -> CLIPVisionConfig:
    return CLIPVisionConfig(**VISION, hidden_act=act)


def vision_fixtures(out: Path, s: Seeded) -> CLIPVisionModelWithProjection:
    model = s.init(CLIPVisionModelWithProjection(vision_config("quick_gelu")))
    gelu = CLIPVisionModelWithProjection(vision_config("gelu")).to(torch.float64).eval()
    gelu.load_state_dict(model.state_dict())
    px = s.randn(2, 3, 32, 32)
    io = {"pixel_values": px}
    for act, m in [("quick_gelu", model), ("gelu", gelu)]:
        tower = m.vision_model(px)
        io[f"last_hidden_state.{act}"] = tower.last_hidden_state
        io[f"pooled_output.{act}"] = tower.pooler_output
        io[f"image_embeds.{act}"] = m(px).image_embeds
    positions = torch.arange((VISION["image_size"] // VISION["patch_size"]) ** 2 + 1)[None]
    save(out / "vision.safetensors", {**state_dict(model), "vision_model.embeddings.position_ids": positions})
    save(out / "vision-io.safetensors", io)
    return model


def preprocess_fixtures(out: Path, s: Seeded) -> None:
    images = s.rand(2, 3, 40, 56)  # landscape: height is the short side
    small = s.rand(1, 3, 20, 12)  # portrait, smaller than the target: upsampling
    io = {"images": images, "small": small}
    for mode in ["bicubic", "bilinear"]:
        io[f"out.{mode}"] = preprocess(images, 32, mode)
        io[f"small.{mode}"] = preprocess(small, 32, mode)
    x = images.clone().requires_grad_(True)
    weights = s.randn(2, 3, 32, 32)
    (grad,) = torch.autograd.grad((preprocess(x, 32, "bicubic") * weights).sum(), x)
    io["grad.weights"] = weights
    io["grad.images"] = grad
    photo = smooth_image(40, 56)
    processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    io["pil.images"] = torch.from_numpy(photo).permute(2, 0, 1)[None].double() / 255
    io["pil.pixel_values"] = processor(images=[photo], return_tensors="pt").pixel_values
    save(out / "preprocess.safetensors", io)


def clip_fixtures(out: Path, s: Seeded, vision: CLIPVisionModelWithProjection) -> None:
    config = CLIPConfig(text_config=TEXT, vision_config={**VISION, "hidden_act": "quick_gelu"}, projection_dim=16,
                        logit_scale_init_value=2.6592)
    model = s.init(CLIPModel(config))
    model.load_state_dict(vision.state_dict(), strict=False)  # the vision half is vision.safetensors
    ids = torch.full((2, 77), TEXT["eos_token_id"], dtype=torch.long)
    ids[:, 0] = TEXT["bos_token_id"]
    ids[0, 1:6] = s.randint(0, 870, 5)
    ids[1, 1:12] = s.randint(0, 870, 11)
    px = s.randn(3, 3, 32, 32)
    result = model(input_ids=ids, pixel_values=px)
    save(out / "clip.safetensors", state_dict(model))
    save(out / "clip-io.safetensors", {"ids": ids.double(), "pixel_values": px, "image_embeds": result.image_embeds,
                                       "text_embeds": result.text_embeds, "logits_per_image": result.logits_per_image})


def aesthetic_fixtures(out: Path, s: Seeded, vision: CLIPVisionModelWithProjection) -> None:
    """TRL's AestheticScorer.__call__ with our differentiable preprocessing in place of CLIPProcessor."""
    head = s.init(AestheticMLP(HEAD_WIDTHS))
    images = s.rand(2, 3, 40, 48).requires_grad_(True)
    embeds = vision(preprocess(images, 32, "bicubic")).image_embeds
    rewards = head(embeds / torch.linalg.vector_norm(embeds, dim=-1, keepdim=True)).squeeze(1)
    (grad,) = torch.autograd.grad(rewards.sum(), images)
    save(out / "aesthetic.safetensors", state_dict(head))
    save(out / "aesthetic-io.safetensors", {"images": images, "rewards": rewards, "grad.images": grad})


def generate(root: Path) -> None:
    out = root / FOLDER
    s = Seeded(2024)
    vision = vision_fixtures(out, s)
    preprocess_fixtures(out, s)
    clip_fixtures(out, s, vision)
    aesthetic_fixtures(out, s, vision)
    with torch.device("meta"):
        vit_l = CLIPModel(CLIPConfig(**{k: v for k, v in VIT_L_14.items() if k != "architectures"}))
    write_json(out / "vit-l-14.config.json", VIT_L_14)
    write_keys(out / "vit-l-14.keys.txt", vit_l, "CLIPModel keys and shapes of openai/clip-vit-large-patch14's config, "
               "from transformers' CLIPModel.")
