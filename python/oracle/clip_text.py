"""test/fixtures/vae-clip/ (CLIP half): transformers' CLIPTextModel and CLIPEncoderLayer, in float64.

  clip-layer-quick_gelu.safetensors, clip-layer-gelu.safetensors   one CLIPEncoderLayer each
  clip-text.safetensors  a tiny CLIPTextModel's weights + the position_ids buffer older files hold, as F32 (the TS
                         loader must ignore it whatever its dtype)

Keys carry the `text_model.` prefix of the published checkpoints (SD1.5's text_encoder/): transformers 5 names the
parameters of CLIPTextModel without it (`embeddings.…`, and writes them so) but loads either form.
  clip-io.safetensors    inputs and outputs (ids stored as F32)
"""

from pathlib import Path

import torch
from transformers import CLIPTextConfig, CLIPTextModel
from transformers.models.clip.modeling_clip import CLIPEncoderLayer

from .common import Seeded, save, sd15_config, state_dict, write_json, write_keys

FOLDER = "vae-clip"

# diffusers' tiny test text encoder
TINY = {"hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4, "num_hidden_layers": 5,
        "vocab_size": 1000, "max_position_embeddings": 77, "layer_norm_eps": 1e-5, "hidden_act": "quick_gelu",
        "bos_token_id": 998, "eos_token_id": 2, "pad_token_id": 1}

SD15_TEXT_ENCODER = sd15_config("text_encoder")


PREFIX = "text_model."


def config(**overrides: object) -> CLIPTextConfig:
    return CLIPTextConfig(**{**TINY, **overrides})


def causal_mask(t: int) -> torch.Tensor:
    """The additive [1, 1, T, T] mask transformers builds: finfo.min above the diagonal."""
    return torch.triu(torch.full((t, t), torch.finfo(torch.float64).min, dtype=torch.float64), diagonal=1)[None, None]


def ids(s: Seeded) -> torch.Tensor:
    """bos 998, eos 999 (the largest id, like CLIP's 49407); row 0 pads with eos as SD's tokenizer does, row 1 with 0.
    Token 500 appears before the eos so that "first position of eos_token_id=500" differs from the argmax rule."""
    out = torch.zeros(2, 77, dtype=torch.long)
    out[0, :12] = s.randint(0, 998, 12)
    out[0, 0], out[0, 4], out[0, 12:] = 998, 500, 999
    out[1, :32] = s.randint(0, 998, 32)
    out[1, 0], out[1, 7], out[1, 20], out[1, 32] = 998, 500, 500, 999
    return out


def generate(root: Path) -> None:
    out = root / FOLDER
    s = Seeded(4321)
    io = {}
    x = s.randn(2, 12, TINY["hidden_size"])
    io["layer.input"] = x
    for act in ["quick_gelu", "gelu"]:
        layer = s.init(CLIPEncoderLayer(config(hidden_act=act)))
        save(out / f"clip-layer-{act}.safetensors", state_dict(layer))
        io[f"layer.output.{act}"] = layer(x, causal_mask(x.shape[1]))
    model = s.init(CLIPTextModel(config()))
    tokens = ids(s)
    result = model(tokens)
    io["text.ids"] = tokens.double()
    io["text.last_hidden_state"] = result.last_hidden_state
    io["text.pooled.eos2"] = result.pooler_output
    model.eos_token_id = 500
    io["text.pooled.eos500"] = model(tokens).pooler_output
    weights = state_dict(model, PREFIX)
    weights["text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.float64)[None]
    save(out / "clip-text.safetensors", weights)
    save(out / "clip-io.safetensors", io)
    with torch.device("meta"):
        sd15 = CLIPTextModel(CLIPTextConfig(**SD15_TEXT_ENCODER))
    write_json(out / "sd15-text_encoder.config.json", SD15_TEXT_ENCODER)
    header = ("text_encoder state-dict keys and shapes (PyTorch layout) of transformers' CLIPTextModel for the\n"
              "Stable Diffusion v1.5 config, under the published files' text_model. prefix.")
    write_keys(out / "sd15-text_encoder.keys.txt", sd15, header, PREFIX)
