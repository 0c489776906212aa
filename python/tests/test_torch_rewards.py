"""The torch engine's rewards: the built-ins' formulas, CLIP preprocessing against PIL and CLIPImageProcessor, and the
embedded pipeline's learned rewards, which prefer what tiny-shapes' world prefers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import CLIPImageProcessor

from alignprop_torch.rewards import resolve_reward, score_images
from alignprop_torch.rewards.aesthetic import AestheticHead, unit_input_bound
from alignprop_torch.rewards.builtin import hue_degrees
from alignprop_torch.rewards.clip_preprocess import CLIP_IMAGE_MEAN, CLIP_IMAGE_STD, clip_preprocess

torch.set_num_threads(1)


def flat(rgb: tuple[float, float, float], size: int = 8) -> torch.Tensor:
    return torch.tensor(rgb).view(1, 3, 1, 1).expand(1, 3, size, size).clone()


def score(spec: str, images: torch.Tensor, prompts: list[str] | None = None) -> list[float]:
    prompts = prompts or [""] * images.shape[0]
    return score_images(resolve_reward(spec), images, prompts, [{}] * len(prompts))[0].tolist()


def test_the_image_statistics_take_their_documented_values():
    white, red = flat((1.0, 1.0, 1.0)), flat((1.0, 0.0, 0.0))
    half = torch.cat([torch.zeros(1, 3, 4, 8), torch.ones(1, 3, 4, 8)], dim=2)
    assert score("brightness", white) == pytest.approx([1.0])
    assert score("brightness", red) == pytest.approx([0.299])
    assert score("saturation", torch.cat([white, red])) == pytest.approx([0.0, 1.0])
    assert score("contrast", half) == pytest.approx([0.5])
    assert score("hue:red", red) == pytest.approx([1.0])
    assert score("hue:cyan", red) == pytest.approx([-1.0])
    assert score("hue:#00ff00", flat((0.0, 1.0, 0.0))) == pytest.approx([1.0])


def test_hue_targets_parse_names_degrees_and_hex_and_reject_greys():
    assert (hue_degrees("blue"), hue_degrees("-90"), hue_degrees("#ffff00")) == pytest.approx((240, 270, 60))
    with pytest.raises(ValueError, match="#808080 is a grey"):
        hue_degrees("#808080")
    with pytest.raises(ValueError, match='"teal" is not a hue'):
        hue_degrees("teal")


def test_the_registry_names_unknown_rewards_and_stray_arguments():
    with pytest.raises(ValueError, match="reward='shiny' is not a built-in"):
        resolve_reward("shiny")
    with pytest.raises(ValueError, match="brightness takes no argument"):
        resolve_reward("brightness:2")


@pytest.mark.parametrize("resample", ["bicubic", "bilinear"])
def test_clip_preprocessing_equals_pils_float_resize_and_centre_crop(resample: str):
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(2, 3, 40, 52, generator=generator, dtype=torch.float64)
    got = clip_preprocess(images, 24, resample)  # shortest edge 40 → 24: 24 × 31, crop columns 3 … 26
    pil_filter = {"bicubic": Image.Resampling.BICUBIC, "bilinear": Image.Resampling.BILINEAR}[resample]
    for b in range(2):
        for ch in range(3):
            plane = Image.fromarray(images[b, ch].numpy().astype(np.float32), mode="F").resize((31, 24), pil_filter)
            expected = (np.asarray(plane)[:, 3:27] - CLIP_IMAGE_MEAN[ch]) / CLIP_IMAGE_STD[ch]
            np.testing.assert_allclose(got[b, ch].numpy(), expected, atol=2e-5)


def test_clip_preprocessing_agrees_with_clip_image_processor_up_to_its_8_bit_rounding():
    y, x = torch.meshgrid(torch.linspace(0, 1, 48), torch.linspace(0, 1, 64), indexing="ij")
    image = torch.stack([x, y, (x + y) / 2])  # a smooth image: [3, 48, 64]
    processor = CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    pixels = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    expected = processor(images=Image.fromarray(pixels), return_tensors="pt").pixel_values
    torch.testing.assert_close(clip_preprocess(image[None], 32), expected, atol=0.03, rtol=0)


def disk(
    colour: tuple[float, float, float], centre: tuple[float, float], radius: float, size: int = 32
) -> torch.Tensor:
    """A disk on a white background, as tiny-shapes' world draws it: [1, 3, size, size]."""
    y, x = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    inside = ((x - centre[0] * size) ** 2 + (y - centre[1] * size) ** 2 <= radius**2).float()
    fg, bg = torch.tensor(colour).view(3, 1, 1), torch.full((3, 1, 1), 0.95)
    return (inside * fg + (1 - inside) * bg)[None]


COLOURS = {"red": (0.9, 0.1, 0.1), "green": (0.1, 0.75, 0.2), "blue": (0.15, 0.25, 0.9)}


def test_tiny_aesthetic_prefers_large_centred_shapes_and_passes_gradients_to_the_pixels():
    reward = resolve_reward("tiny-aesthetic")
    large = torch.cat([disk(c, (0.5, 0.5), 10) for c in COLOURS.values()]).requires_grad_()
    small = torch.cat([disk(c, (0.3, 0.3), 5) for c in COLOURS.values()])
    prompts, metadata = [""] * 3, [{}] * 3
    good, _ = score_images(reward, large, prompts, metadata)
    bad, _ = score_images(reward, small, prompts, metadata)
    assert (good > bad).all(), (good, bad)
    scores = torch.cat([good, bad]).detach()
    assert reward.range[0] <= float(scores.min()) <= float(scores.max()) <= reward.range[1]
    (grad,) = torch.autograd.grad(good.sum(), large)
    assert grad.abs().sum() > 0


def test_tiny_clip_score_scores_the_prompted_colour_above_the_others():
    images = torch.cat([disk(c, (0.5, 0.5), 10) for c in COLOURS.values()])
    for name in COLOURS:
        scores = score("tiny-clip-score", images, [f"a {name} circle"] * len(COLOURS))
        assert max(zip(scores, COLOURS, strict=True))[1] == name, (name, scores)


def test_the_aesthetic_heads_range_is_probed_where_the_head_lives():
    head = AestheticHead((4, 8, 8, 8, 8, 1)).double().eval()  # a dtype stands in for a device: both must match
    low, high = unit_input_bound(head)
    with torch.no_grad():
        units = torch.nn.functional.normalize(torch.randn(256, 4, dtype=torch.float64), dim=-1)
        scores = head(units)
    assert low <= float(scores.min()) <= float(scores.max()) <= high
