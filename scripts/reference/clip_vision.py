#!/usr/bin/python3
"""PyTorch reference for the TF.js CLIP vision tower, CLIPModel, CLIP image preprocessing and the LAION aesthetic
head (test/clip-vision/).

Written from transformers' models/clip/modeling_clip.py (CLIPVisionEmbeddings, CLIPVisionTransformer, CLIPModel),
image_processing_clip.py + image_transforms.py (shortest-edge resize, centre crop, mean/std) and TRL's aesthetic
scorer MLP, with torch.nn.functional primitives, in float64 on weights and inputs first rounded to float32 (what the
fixtures store). No transformers install is needed. Writes test/fixtures/clip-vision/:

  vit-l-14.config.json      openai/clip-vit-large-patch14's CLIPConfig sizes (text_config, vision_config, projection_dim)
  vit-l-14.keys.txt         every CLIPModel key of that config with its PyTorch shape, from torch modules built here
  vision.safetensors        tiny CLIPVisionModelWithProjection weights (+ the int64 position_ids buffer real files hold)
  vision-io.safetensors     pixel values and outputs (quick_gelu and gelu) of the tiny vision model, NCHW
  preprocess.safetensors    images, CLIP preprocessing outputs (bicubic / bilinear, down and up) and a gradient
  clip.safetensors          tiny CLIPModel weights;  clip-io.safetensors its inputs and logits
  aesthetic.safetensors     a tiny-width aesthetic head (LAION's layers.0/2/4/6/7 keys)
  aesthetic-io.safetensors  images → preprocessing → tiny vision → L2 norm → head: rewards and d(sum rewards)/d(images)

Run: /usr/bin/python3 scripts/reference/clip_vision.py   (torch 1.13, numpy; PIL only for the printed comparison)
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "clip-vision")
torch.manual_seed(2024)

MEAN = [0.48145466, 0.4578275, 0.40821073]
STD = [0.26862954, 0.26130258, 0.27577711]

# ---------------------------------------------------------------------------------------------------------------
# safetensors (F32, plus I64 for the position_ids buffer)


def save(name, tensors, ints=None):
    ints = ints or {}
    header, blobs, offset = {}, [], 0
    items = [(k, v.detach().numpy().astype("<f4"), "F32") for k, v in tensors.items()]
    items += [(k, v.numpy().astype("<i8"), "I64") for k, v in ints.items()]
    for key, arr, dtype in sorted(items, key=lambda item: item[0]):
        arr = arr.copy(order="C")  # ascontiguousarray would turn 0-d logit_scale into [1]
        header[key] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        blobs.append(arr.tobytes())
        offset += arr.nbytes
    text = json.dumps(header)
    text += " " * ((8 - len(text) % 8) % 8)
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for blob in blobs:
            f.write(blob)
    print(f"{name}: {len(tensors) + len(ints)} tensors, {os.path.getsize(path):,} bytes")


def f32(t):
    return t.float().double()


def linear(sd, p, out_f, in_f, bias=True):
    sd[p + ".weight"] = f32(torch.randn(out_f, in_f) / math.sqrt(in_f))
    if bias:
        sd[p + ".bias"] = f32(0.1 * torch.randn(out_f))


def norm(sd, p, n):
    sd[p + ".weight"] = f32(1 + 0.1 * torch.randn(n))
    sd[p + ".bias"] = f32(0.1 * torch.randn(n))


# ---------------------------------------------------------------------------------------------------------------
# ViT-L/14 conformance: torch modules with transformers' structure and names, counted


class Layer(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.self_attn = nn.Module()
        for name in ["k_proj", "v_proj", "q_proj", "out_proj"]:
            setattr(self.self_attn, name, nn.Linear(d, d))
        self.layer_norm1 = nn.LayerNorm(d)
        self.mlp = nn.Module()
        self.mlp.fc1 = nn.Linear(d, inter)
        self.mlp.fc2 = nn.Linear(inter, d)
        self.layer_norm2 = nn.LayerNorm(d)


def encoder(d, inter, n):
    e = nn.Module()
    e.layers = nn.ModuleList([Layer(d, inter) for _ in range(n)])
    return e


def vision_tower(c):
    d = c["hidden_size"]
    t = nn.Module()
    t.embeddings = nn.Module()
    t.embeddings.class_embedding = nn.Parameter(torch.empty(d))
    t.embeddings.patch_embedding = nn.Conv2d(3, d, c["patch_size"], stride=c["patch_size"], bias=False)
    t.embeddings.position_embedding = nn.Embedding((c["image_size"] // c["patch_size"]) ** 2 + 1, d)
    t.pre_layrnorm = nn.LayerNorm(d)
    t.encoder = encoder(d, c["intermediate_size"], c["num_hidden_layers"])
    t.post_layernorm = nn.LayerNorm(d)
    return t


def text_tower(c):
    d = c["hidden_size"]
    t = nn.Module()
    t.embeddings = nn.Module()
    t.embeddings.token_embedding = nn.Embedding(c["vocab_size"], d)
    t.embeddings.position_embedding = nn.Embedding(c["max_position_embeddings"], d)
    t.encoder = encoder(d, c["intermediate_size"], c["num_hidden_layers"])
    t.final_layer_norm = nn.LayerNorm(d)
    return t


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


def conformance():
    c = VIT_L_14
    model = nn.Module()
    model.text_model = text_tower(c["text_config"])
    model.vision_model = vision_tower(c["vision_config"])
    model.visual_projection = nn.Linear(c["vision_config"]["hidden_size"], c["projection_dim"], bias=False)
    model.text_projection = nn.Linear(c["text_config"]["hidden_size"], c["projection_dim"], bias=False)
    model.logit_scale = nn.Parameter(torch.tensor(c["logit_scale_init_value"]))
    params = dict(model.named_parameters())
    with open(os.path.join(OUT, "vit-l-14.config.json"), "w") as f:
        json.dump(c, f, indent=2)
        f.write("\n")
    with open(os.path.join(OUT, "vit-l-14.keys.txt"), "w") as f:
        f.write("# CLIPModel keys of openai/clip-vit-large-patch14's config (torch modules with transformers' names)\n")
        for key, p in params.items():
            f.write(f"{key}\t{','.join(str(s) for s in p.shape)}\n")
    vision = {k: p for k, p in params.items() if k.startswith("vision_model.") or k.startswith("visual_projection.")}
    print("ViT-L/14 vision tower + visual_projection:", len(vision), "keys,", sum(p.numel() for p in vision.values()), "params")
    print("  without visual_projection:", sum(p.numel() for k, p in vision.items() if k.startswith("vision_model.")))
    print("ViT-L/14 CLIPModel:", len(params), "keys,", sum(p.numel() for p in params.values()), "params")
    head = nn.Sequential(nn.Linear(768, 1024), nn.Dropout(0.2), nn.Linear(1024, 128), nn.Dropout(0.2),
                         nn.Linear(128, 64), nn.Dropout(0.1), nn.Linear(64, 16), nn.Linear(16, 1))
    print("LAION aesthetic head:", [k for k, _ in head.named_parameters()], sum(p.numel() for p in head.parameters()), "params")


# ---------------------------------------------------------------------------------------------------------------
# Tiny vision tower: weights and forward (transformers' equations)
VISION = {"hidden_size": 32, "intermediate_size": 37, "num_hidden_layers": 2, "num_attention_heads": 4,
          "image_size": 32, "patch_size": 8, "projection_dim": 16, "layer_norm_eps": 1e-5}
TEXT = {"vocab_size": 874, "hidden_size": 24, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 2, "max_position_embeddings": 77, "eos_token_id": 873, "layer_norm_eps": 1e-5}
EPS = 1e-5


def make_layers(sd, p, d, inter, n):
    for i in range(n):
        q = f"{p}.encoder.layers.{i}"
        for name in ["k_proj", "v_proj", "q_proj", "out_proj"]:
            linear(sd, f"{q}.self_attn.{name}", d, d)
        norm(sd, f"{q}.layer_norm1", d)
        linear(sd, f"{q}.mlp.fc1", inter, d)
        linear(sd, f"{q}.mlp.fc2", d, inter)
        norm(sd, f"{q}.layer_norm2", d)


def make_vision(sd, c):
    d, patch = c["hidden_size"], c["patch_size"]
    p = "vision_model"
    sd[f"{p}.embeddings.class_embedding"] = f32(torch.randn(d))
    sd[f"{p}.embeddings.patch_embedding.weight"] = f32(torch.randn(d, 3, patch, patch) / math.sqrt(3 * patch * patch))
    sd[f"{p}.embeddings.position_embedding.weight"] = f32(0.5 * torch.randn((c["image_size"] // patch) ** 2 + 1, d))
    norm(sd, f"{p}.pre_layrnorm", d)
    make_layers(sd, p, d, c["intermediate_size"], c["num_hidden_layers"])
    norm(sd, f"{p}.post_layernorm", d)
    linear(sd, "visual_projection", c["projection_dim"], d, bias=False)


def act_fn(name, x):
    return x * torch.sigmoid(1.702 * x) if name == "quick_gelu" else F.gelu(x)


def encoder_layer(sd, p, x, heads, act, mask=None):
    b, t, d = x.shape
    hd = d // heads

    def lin(name, y):
        return F.linear(y, sd[f"{p}.{name}.weight"], sd[f"{p}.{name}.bias"])

    def split(y):
        return y.view(b, t, heads, hd).transpose(1, 2)

    h = F.layer_norm(x, (d,), sd[f"{p}.layer_norm1.weight"], sd[f"{p}.layer_norm1.bias"], EPS)
    q = split(lin("self_attn.q_proj", h) * hd ** -0.5)
    k = split(lin("self_attn.k_proj", h))
    v = split(lin("self_attn.v_proj", h))
    scores = q @ k.transpose(-1, -2)
    if mask is not None:
        scores = scores + mask
    attn = torch.softmax(scores, dim=-1) @ v
    x = x + lin("self_attn.out_proj", attn.transpose(1, 2).reshape(b, t, d))
    h = F.layer_norm(x, (d,), sd[f"{p}.layer_norm2.weight"], sd[f"{p}.layer_norm2.bias"], EPS)
    return x + lin("mlp.fc2", act_fn(act, lin("mlp.fc1", h)))


def vision(sd, c, px, act):
    """px [B, 3, S, S] → (last_hidden_state, pooled_output, image_embeds)"""
    d = c["hidden_size"]
    p = "vision_model"
    x = F.conv2d(px, sd[f"{p}.embeddings.patch_embedding.weight"], stride=c["patch_size"]).flatten(2).transpose(1, 2)
    cls = sd[f"{p}.embeddings.class_embedding"].expand(px.shape[0], 1, -1)
    x = torch.cat([cls, x], 1) + sd[f"{p}.embeddings.position_embedding.weight"][None]
    x = F.layer_norm(x, (d,), sd[f"{p}.pre_layrnorm.weight"], sd[f"{p}.pre_layrnorm.bias"], EPS)
    for i in range(c["num_hidden_layers"]):
        x = encoder_layer(sd, f"{p}.encoder.layers.{i}", x, c["num_attention_heads"], act)
    pooled = F.layer_norm(x[:, 0], (d,), sd[f"{p}.post_layernorm.weight"], sd[f"{p}.post_layernorm.bias"], EPS)
    return x, pooled, pooled @ sd["visual_projection.weight"].T


def vision_fixtures():
    sd = {}
    make_vision(sd, VISION)
    n = (VISION["image_size"] // VISION["patch_size"]) ** 2 + 1
    save("vision.safetensors", sd, {"vision_model.embeddings.position_ids": torch.arange(n)[None]})
    print("tiny vision params:", sum(t.numel() for t in sd.values()))
    px = f32(torch.randn(2, 3, 32, 32))
    io = {"pixel_values": px}
    for act in ["quick_gelu", "gelu"]:
        last, pooled, embeds = vision(sd, VISION, px, act)
        io[f"last_hidden_state.{act}"] = last
        io[f"pooled_output.{act}"] = pooled
        io[f"image_embeds.{act}"] = embeds
    save("vision-io.safetensors", io)
    return sd


# ---------------------------------------------------------------------------------------------------------------
# CLIPImageProcessor's geometry on float images: shortest edge → size (torch's antialiased interpolation, PIL's
# resampling filters), centre crop with floor offsets, then (x − mean) / std.


def preprocess(images, size, mode):
    h, w = images.shape[-2:]
    short, long = (w, h) if w <= h else (h, w)
    new_long = int(size * long / short)
    new_h, new_w = (new_long, size) if w <= h else (size, new_long)
    r = F.interpolate(images, size=(new_h, new_w), mode=mode, align_corners=False, antialias=True)
    top, left = (new_h - size) // 2, (new_w - size) // 2
    r = r[..., top:top + size, left:left + size]
    return (r - torch.tensor(MEAN, dtype=r.dtype)[:, None, None]) / torch.tensor(STD, dtype=r.dtype)[:, None, None]


def pil_comparison(images):
    """Prints how far torch's antialiased bicubic is from PIL on float ('F') images and on 8-bit images."""
    from PIL import Image
    img = images[0].numpy()
    h, w = img.shape[-2:]
    size = 32
    new_w = int(size * w / h)
    ours = F.interpolate(images[:1], size=(size, new_w), mode="bicubic", align_corners=False, antialias=True)[0].numpy()
    pil_f = np.stack([np.asarray(Image.fromarray(img[c].astype(np.float32), mode="F").resize((new_w, size), Image.BICUBIC))
                      for c in range(3)])
    rgb = Image.fromarray((np.transpose(img, (1, 2, 0)) * 255).astype(np.uint8))
    pil_8 = np.transpose(np.asarray(rgb.resize((new_w, size), Image.BICUBIC)), (2, 0, 1)) / 255.0
    print(f"bicubic antialiased vs PIL float resize: max abs {np.abs(ours - pil_f).max():.2e}")
    print(f"bicubic antialiased vs PIL 8-bit resize (CLIPImageProcessor's path): max abs {np.abs(ours - pil_8).max():.2e}")


def preprocess_fixtures():
    images = f32(torch.rand(2, 3, 40, 56))  # landscape: height is the short side
    small = f32(torch.rand(1, 3, 20, 12))  # portrait, smaller than the target: upsampling
    io = {"images": images, "small": small}
    for mode in ["bicubic", "bilinear"]:
        io[f"out.{mode}"] = preprocess(images, 32, mode)
        io[f"small.{mode}"] = preprocess(small, 32, mode)
    x = images.clone().requires_grad_(True)
    weights = f32(torch.randn(2, 3, 32, 32))
    (preprocess(x, 32, "bicubic") * weights).sum().backward()
    io["grad.weights"] = weights
    io["grad.images"] = x.grad
    save("preprocess.safetensors", io)
    pil_comparison(images)


# ---------------------------------------------------------------------------------------------------------------
# Tiny CLIPModel


def make_text(sd, c):
    d = c["hidden_size"]
    p = "text_model"
    sd[f"{p}.embeddings.token_embedding.weight"] = f32(0.5 * torch.randn(c["vocab_size"], d))
    sd[f"{p}.embeddings.position_embedding.weight"] = f32(0.5 * torch.randn(c["max_position_embeddings"], d))
    make_layers(sd, p, d, c["intermediate_size"], c["num_hidden_layers"])
    norm(sd, f"{p}.final_layer_norm", d)


def text(sd, c, ids):
    d = c["hidden_size"]
    p = "text_model"
    t = ids.shape[1]
    x = sd[f"{p}.embeddings.token_embedding.weight"][ids] + sd[f"{p}.embeddings.position_embedding.weight"][:t]
    mask = torch.triu(torch.full((t, t), torch.finfo(torch.float32).min, dtype=torch.float64), 1)
    for i in range(c["num_hidden_layers"]):
        x = encoder_layer(sd, f"{p}.encoder.layers.{i}", x, c["num_attention_heads"], "quick_gelu", mask)
    x = F.layer_norm(x, (d,), sd[f"{p}.final_layer_norm.weight"], sd[f"{p}.final_layer_norm.bias"], EPS)
    eos = (ids == c["eos_token_id"]).int().argmax(-1)
    return x[torch.arange(ids.shape[0]), eos]


def clip_fixtures(vision_sd):
    sd = dict(vision_sd)
    make_text(sd, TEXT)
    linear(sd, "text_projection", VISION["projection_dim"], TEXT["hidden_size"], bias=False)
    sd["logit_scale"] = f32(torch.tensor(2.6592))
    save("clip.safetensors", sd)
    ids = torch.full((2, 77), 873, dtype=torch.long)
    ids[:, 0] = 872
    ids[0, 1:6] = torch.randint(0, 870, (5,))
    ids[1, 1:12] = torch.randint(0, 870, (11,))
    px = f32(torch.randn(3, 3, 32, 32))
    image = F.normalize(vision(sd, VISION, px, "quick_gelu")[2], dim=-1)
    txt = F.normalize(text(sd, TEXT, ids) @ sd["text_projection.weight"].T, dim=-1)
    save("clip-io.safetensors", {
        "ids": ids.double(),
        "pixel_values": px,
        "image_embeds": image,
        "text_embeds": txt,
        "logits_per_image": sd["logit_scale"].exp() * image @ txt.T,
    })


# ---------------------------------------------------------------------------------------------------------------
# Aesthetic head: LAION's nn.Sequential (Linear, Dropout, Linear, Dropout, Linear, Dropout, Linear, Linear) with
# tiny widths; dropout is inactive (eval), so the head is affine.
HEAD_WIDTHS = [16, 32, 16, 8, 4, 1]
HEAD_LINEARS = [0, 2, 4, 6, 7]


def head(sd, x):
    for i in HEAD_LINEARS:
        x = F.linear(x, sd[f"layers.{i}.weight"], sd[f"layers.{i}.bias"])
    return x[:, 0]


def aesthetic_fixtures(vision_sd):
    hd = {}
    for j, i in enumerate(HEAD_LINEARS):
        linear(hd, f"layers.{i}", HEAD_WIDTHS[j + 1], HEAD_WIDTHS[j])
    save("aesthetic.safetensors", hd)
    images = f32(torch.rand(2, 3, 40, 48)).requires_grad_(True)
    embeds = vision(vision_sd, VISION, preprocess(images, 32, "bicubic"), "quick_gelu")[2]
    rewards = head(hd, embeds / torch.linalg.vector_norm(embeds, dim=-1, keepdim=True))
    rewards.sum().backward()
    save("aesthetic-io.safetensors", {"images": images.detach(), "rewards": rewards.detach(), "grad.images": images.grad})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    conformance()
    vision_sd = vision_fixtures()
    preprocess_fixtures()
    clip_fixtures(vision_sd)
    aesthetic_fixtures(vision_sd)
