"""`clip-score`: the cosine similarity of CLIP's image and prompt embeddings, in [−1, 1] — the raw cosine AlignProp's
HPS reward uses (src/rewards/clip-score.ts). `tiny-clip-score` is models/tiny-shapes/clip.
"""

from __future__ import annotations

from transformers import CLIPModel, CLIPTokenizer

from .clip_preprocess import ClipResample, clip_preprocess
from .reward import Reward


def clip_score_reward(
    model: CLIPModel, tokenizer: CLIPTokenizer, name: str = "clip-score", resample: ClipResample = "bicubic"
) -> Reward:
    model.requires_grad_(False).eval()
    size = model.config.vision_config.image_size

    def score(images, prompts, metadata):
        tokens = tokenizer(list(prompts), padding="max_length", truncation=True, return_tensors="pt")
        # CLIPModel's forward returns both embeddings L2-normalised.
        out = model(input_ids=tokens.input_ids.to(images.device), pixel_values=clip_preprocess(images, size, resample))
        return (out.image_embeds * out.text_embeds).sum(-1), {}

    return Reward(
        name=name,
        description="cosine similarity of CLIP's image and prompt embeddings",
        range=(-1.0, 1.0),
        score=score,
        modules=(model,),
    )


def load_clip_score_reward(clip: str, name: str = "clip-score", resample: ClipResample = "bicubic") -> Reward:
    """The reward over a transformers CLIP checkpoint (a folder or Hub id) and its tokenizer."""
    return clip_score_reward(CLIPModel.from_pretrained(clip), CLIPTokenizer.from_pretrained(clip), name, resample)
