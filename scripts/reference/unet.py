#!/usr/bin/python3
"""PyTorch reference for src/models/unet and the shared layers in src/models/nn/layers.ts.

Written from the diffusers equations (UNet2DConditionModel and its blocks, SD1.x/2.x configuration), not from
its code: every block is a function of a parameter store keyed by the diffusers state-dict names. Parameters are
created on first use, random, rounded to float32; the arithmetic runs in float64 (except the timestep embedding,
which diffusers computes in float32 and so do we). Each fixture is one safetensors file holding the parameters
under their diffusers keys plus the inputs and outputs under `io.*`; image tensors are saved NHWC (TF.js layout),
parameters in PyTorch layout. The tiny UNets are saved as diffusers saves a model: `config.json` and
`diffusion_pytorch_model.safetensors`, with `io.safetensors` beside them.

Run with Debian's PyTorch: /usr/bin/python3 scripts/reference/unet.py  (writes test/fixtures/unet/)
"""
import json
import math
import struct
from pathlib import Path

import torch
import torch.nn.functional as F

OUT = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "unet"
torch.set_default_dtype(torch.float64)


def save(path, tensors):
    """safetensors, F32, keys sorted."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    print(f"{path.relative_to(OUT.parents[2])}: {path.stat().st_size} bytes")


def nhwc(x):
    return x.permute(0, 2, 3, 1)


def nchw(x):
    return x.permute(0, 3, 1, 2)


class Params:
    """Parameters created on first use under their diffusers key, rounded to float32.

    Weights are uniform with unit output variance (bound √(3/fan_in)), so activations stay O(1) through the UNet
    and attention is not flat; biases and norm affines are small random perturbations of PyTorch's init.
    """

    def __init__(self, seed):
        self.gen = torch.Generator().manual_seed(seed)
        self.tensors = {}

    def get(self, key, shape, kind):
        key = key.lstrip(".")  # a block saved on its own is the root: its keys have no prefix
        if key not in self.tensors:
            if kind == "weight":
                bound = math.sqrt(3 / math.prod(shape[1:]))
                value = (torch.rand(shape, generator=self.gen) * 2 - 1) * bound
            elif kind == "norm_weight":
                value = 1 + 0.2 * torch.randn(shape, generator=self.gen)
            else:
                value = 0.2 * torch.randn(shape, generator=self.gen)
            self.tensors[key] = value.to(torch.float32).to(torch.float64)
        value = self.tensors[key]
        assert tuple(value.shape) == tuple(shape), f"{key}: {tuple(value.shape)} vs {shape}"
        return value

    def randn(self, *shape):
        return torch.randn(shape, generator=self.gen).to(torch.float32).to(torch.float64)


# ---- torch.nn layers -------------------------------------------------------------------------------------------


def linear(P, key, x, d_in, d_out, bias=True):
    b = P.get(f"{key}.bias", (d_out,), "bias") if bias else None
    return F.linear(x, P.get(f"{key}.weight", (d_out, d_in), "weight"), b)


def conv(P, key, x, c_in, c_out, kernel, stride=1, padding=0):
    w = P.get(f"{key}.weight", (c_out, c_in, kernel, kernel), "weight")
    return F.conv2d(x, w, P.get(f"{key}.bias", (c_out,), "bias"), stride, padding)


def group_norm(P, key, x, groups, eps):
    c = x.shape[1]
    return F.group_norm(x, groups, P.get(f"{key}.weight", (c,), "norm_weight"), P.get(f"{key}.bias", (c,), "norm_bias"), eps)


def layer_norm(P, key, x, eps=1e-5):
    d = x.shape[-1]
    return F.layer_norm(x, (d,), P.get(f"{key}.weight", (d,), "norm_weight"), P.get(f"{key}.bias", (d,), "norm_bias"), eps)


# ---- diffusers blocks (NCHW) -----------------------------------------------------------------------------------


def timestep_embedding(t, dim, flip_sin_to_cos, shift):
    """get_timestep_embedding, in float32 as diffusers computes it."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(0, half, dtype=torch.float32) / (half - shift)
    emb = t[:, None].float() * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb.double()


def time_embedding(P, key, emb, dim):
    return linear(P, f"{key}.linear_2", F.silu(linear(P, f"{key}.linear_1", emb, emb.shape[1], dim)), dim, dim)


def resnet(P, key, x, temb, c_out, groups, eps, scale=1.0):
    c_in = x.shape[1]
    h = conv(P, f"{key}.conv1", F.silu(group_norm(P, f"{key}.norm1", x, groups, eps)), c_in, c_out, 3, 1, 1)
    h = h + linear(P, f"{key}.time_emb_proj", F.silu(temb), temb.shape[1], c_out)[:, :, None, None]
    h = conv(P, f"{key}.conv2", F.silu(group_norm(P, f"{key}.norm2", h, groups, eps)), c_out, c_out, 3, 1, 1)
    if c_in != c_out:
        x = conv(P, f"{key}.conv_shortcut", x, c_in, c_out, 1)
    return (x + h) / scale


def downsample(P, key, x, padding):
    if padding == 0:
        x = F.pad(x, (0, 1, 0, 1))
    return conv(P, f"{key}.conv", x, x.shape[1], x.shape[1], 3, 2, padding)


def upsample(P, key, x, size=None):
    x = F.interpolate(x, scale_factor=2.0, mode="nearest") if size is None else F.interpolate(x, size=size, mode="nearest")
    return conv(P, f"{key}.conv", x, x.shape[1], x.shape[1], 3, 1, 1)


def attention(P, key, x, context, heads, dim_head):
    b, n, c = x.shape
    kv = x if context is None else context
    inner = heads * dim_head

    def split(t):
        return t.reshape(b, -1, heads, dim_head).transpose(1, 2)

    q = split(linear(P, f"{key}.to_q", x, c, inner, bias=False))
    k = split(linear(P, f"{key}.to_k", kv, kv.shape[-1], inner, bias=False))
    v = split(linear(P, f"{key}.to_v", kv, kv.shape[-1], inner, bias=False))
    weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dim_head), dim=-1)
    out = (weights @ v).transpose(1, 2).reshape(b, n, inner)
    return linear(P, f"{key}.to_out.0", out, inner, c)


def feed_forward(P, key, x):
    dim = x.shape[-1]
    inner = 4 * dim
    value, gate = linear(P, f"{key}.net.0.proj", x, dim, 2 * inner).chunk(2, dim=-1)
    return linear(P, f"{key}.net.2", value * F.gelu(gate), inner, dim)


def transformer_block(P, key, x, context, heads):
    dim_head = x.shape[-1] // heads
    x = attention(P, f"{key}.attn1", layer_norm(P, f"{key}.norm1", x), None, heads, dim_head) + x
    x = attention(P, f"{key}.attn2", layer_norm(P, f"{key}.norm2", x), context, heads, dim_head) + x
    return feed_forward(P, f"{key}.ff", layer_norm(P, f"{key}.norm3", x)) + x


def transformer_2d(P, key, x, context, heads, groups, linear_projection, layers=1):
    b, c, height, width = x.shape
    h = group_norm(P, f"{key}.norm", x, groups, 1e-6)
    if linear_projection:
        h = linear(P, f"{key}.proj_in", h.permute(0, 2, 3, 1).reshape(b, height * width, c), c, c)
    else:
        h = conv(P, f"{key}.proj_in", h, c, c, 1).permute(0, 2, 3, 1).reshape(b, height * width, c)
    for i in range(layers):
        h = transformer_block(P, f"{key}.transformer_blocks.{i}", h, context, heads)
    if linear_projection:
        h = linear(P, f"{key}.proj_out", h, c, c).reshape(b, height, width, c).permute(0, 3, 1, 2)
    else:
        h = conv(P, f"{key}.proj_out", h.reshape(b, height, width, c).permute(0, 3, 1, 2), c, c, 1)
    return h + x


def per_block(value, n):
    return list(value) if isinstance(value, list) else [value] * n


def unet(P, cfg, sample, timestep, context):
    """UNet2DConditionModel.forward for the CrossAttn/plain Down/Up blocks and UNetMidBlock2DCrossAttn."""
    channels = cfg["block_out_channels"]
    n = len(channels)
    layers = per_block(cfg["layers_per_block"], n)
    heads = per_block(cfg["attention_head_dim"], n)  # diffusers: attention_head_dim is the number of heads
    t_layers = per_block(cfg.get("transformer_layers_per_block", 1), n)
    groups, eps, lin = cfg["norm_num_groups"], cfg["norm_eps"], cfg["use_linear_projection"]
    attn = lambda key, x, level: transformer_2d(P, key, x, context, heads[level], groups, lin, t_layers[level])

    if cfg["center_input_sample"]:
        sample = 2 * sample - 1.0
    timesteps = timestep.expand(sample.shape[0])
    emb = timestep_embedding(timesteps, channels[0], cfg["flip_sin_to_cos"], cfg["freq_shift"])
    temb = time_embedding(P, "time_embedding", emb, 4 * channels[0])

    x = conv(P, "conv_in", sample, sample.shape[1], channels[0], 3, 1, 1)
    skips = [x]
    for i, kind in enumerate(cfg["down_block_types"]):
        for j in range(layers[i]):
            x = resnet(P, f"down_blocks.{i}.resnets.{j}", x, temb, channels[i], groups, eps)
            if kind == "CrossAttnDownBlock2D":
                x = attn(f"down_blocks.{i}.attentions.{j}", x, i)
            skips.append(x)
        if i < n - 1:
            x = downsample(P, f"down_blocks.{i}.downsamplers.0", x, cfg["downsample_padding"])
            skips.append(x)

    scale = cfg["mid_block_scale_factor"]
    x = resnet(P, "mid_block.resnets.0", x, temb, channels[-1], groups, eps, scale)
    x = attn("mid_block.attentions.0", x, n - 1)
    x = resnet(P, "mid_block.resnets.1", x, temb, channels[-1], groups, eps, scale)

    forward_upsample_size = any(d % 2 ** (n - 1) != 0 for d in sample.shape[-2:])
    for i, kind in enumerate(cfg["up_block_types"]):
        level = n - 1 - i
        for j in range(layers[level] + 1):
            x = torch.cat([x, skips.pop()], dim=1)
            x = resnet(P, f"up_blocks.{i}.resnets.{j}", x, temb, channels[level], groups, eps)
            if kind == "CrossAttnUpBlock2D":
                x = attn(f"up_blocks.{i}.attentions.{j}", x, level)
        if i < n - 1:
            size = tuple(skips[-1].shape[-2:]) if forward_upsample_size else None
            x = upsample(P, f"up_blocks.{i}.upsamplers.0", x, size)

    x = F.silu(group_norm(P, "conv_norm_out", x, groups, eps))
    return conv(P, "conv_out", x, channels[0], cfg["out_channels"], 3, 1, 1)


# ---- fixtures --------------------------------------------------------------------------------------------------


def fixture(name, seed, build):
    """build(P) → {io name: tensor}; saved with P's parameters."""
    P = Params(seed)
    io = build(P)
    save(OUT / f"{name}.safetensors", {**P.tensors, **{f"io.{k}": v for k, v in io.items()}})


def nn_layers(P):
    io = {}
    x = P.randn(2, 5, 6)
    io.update({"linear.input": x, "linear.output": linear(P, "linear", x, 6, 7)})
    io["linear_no_bias.output"] = linear(P, "linear_no_bias", x, 6, 7, bias=False)
    img = P.randn(2, 6, 7, 9)  # NCHW, odd sizes so strided outputs round down
    io["conv.input"] = nhwc(img)
    for name, kernel, stride, padding in [("conv_k3_s1_p1", 3, 1, 1), ("conv_k3_s1_p0", 3, 1, 0), ("conv_k1_s1_p0", 1, 1, 0),
                                          ("conv_k3_s2_p1", 3, 2, 1), ("conv_k3_s2_p0", 3, 2, 0)]:
        io[f"{name}.output"] = nhwc(conv(P, name, img, 6, 4, kernel, stride, padding))
    gn_in = 3 + 2 * P.randn(2, 8, 5, 3)  # mean and scale away from 0 and 1
    io["group_norm.input"] = nhwc(gn_in)
    io["group_norm.output"] = nhwc(group_norm(P, "group_norm", gn_in, 4, 1e-5))
    io["group_norm_eps6.output"] = nhwc(group_norm(P, "group_norm_eps6", gn_in, 2, 1e-6))
    ln_in = 1 - 3 * P.randn(2, 5, 6)
    io.update({"layer_norm.input": ln_in, "layer_norm.output": layer_norm(P, "layer_norm", ln_in)})
    return io


def embeddings(P):
    t = torch.tensor([0, 1, 500.5, 981])
    emb = timestep_embedding(t, 8, True, 0)
    return {"timesteps": t, "proj": emb, "proj_odd_unflipped_shift1": timestep_embedding(t, 7, False, 1),
            "output": time_embedding(P, "", emb, 16)}


def resnet_case(c_out, scale):
    def build(P):
        x, temb = P.randn(2, 8, 6, 5), P.randn(2, 16)
        return {"input": nhwc(x), "temb": temb, "output": nhwc(resnet(P, "", x, temb, c_out, 4, 1e-5, scale))}
    return build


def sampler_case(fn):
    def build(P):
        x = P.randn(2, 4, 7, 9) if fn != "upsample_size" else P.randn(2, 4, 4, 5)
        if fn == "downsample":
            y = downsample(P, "", x, 1)
        elif fn == "downsample_pad0":
            y = downsample(P, "", x, 0)
        elif fn == "upsample":
            y = upsample(P, "", x)
        else:
            y = upsample(P, "", x, (7, 9))
        return {"input": nhwc(x), "output": nhwc(y)}
    return build


def attention_case(cross):
    def build(P):
        x = P.randn(2, 10, 16)
        context = P.randn(2, 5, 12) if cross else None
        io = {"input": x, "output": attention(P, "", x, context, 2, 8)}
        if cross:
            io["context"] = context
        return io
    return build


def transformer_block_case(P):
    x, context = P.randn(2, 10, 16), P.randn(2, 5, 12)
    return {"input": x, "context": context, "output": transformer_block(P, "", x, context, 2)}


def transformer_2d_case(linear_projection, layers):
    def build(P):
        x, context = P.randn(2, 16, 3, 4), P.randn(2, 5, 12)
        y = transformer_2d(P, "", x, context, 2, 4, linear_projection, layers)
        return {"input": nhwc(x), "context": context, "output": nhwc(y)}
    return build


TINY_SD15 = {
    "_class_name": "UNet2DConditionModel",
    "_diffusers_version": "0.6.0",
    "act_fn": "silu",
    "attention_head_dim": 2,
    "block_out_channels": [8, 12],
    "center_input_sample": False,
    "cross_attention_dim": 12,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 4,
    "out_channels": 4,
    "sample_size": 8,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
    "use_linear_projection": False,
}

# SD2-style options, per-block lists (reversed for the up path), odd latent sizes (upsample_size is forwarded),
# and keys a newer diffusers writes that the model must tolerate.
TINY_SD2 = {
    "_class_name": "UNet2DConditionModel",
    "_diffusers_version": "0.27.0",
    "act_fn": "silu",
    "addition_embed_type": None,
    "attention_head_dim": [1, 2, 4],
    "block_out_channels": [4, 8, 8],
    "center_input_sample": True,
    "class_embed_type": None,
    "cross_attention_dim": 12,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "dual_cross_attention": False,
    "flip_sin_to_cos": False,
    "freq_shift": 1,
    "in_channels": 4,
    "layers_per_block": [1, 2, 1],
    "mid_block_scale_factor": 1.5,
    "norm_eps": 1e-05,
    "norm_num_groups": 4,
    "num_attention_heads": None,
    "only_cross_attention": False,
    "out_channels": 4,
    "sample_size": [7, 9],
    "transformer_layers_per_block": [1, 2, 1],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "upcast_attention": True,
    "use_linear_projection": True,
}


def tiny_unet(name, cfg, seed, height, width, timestep):
    P = Params(seed)
    sample, context = P.randn(2, 4, height, width), P.randn(2, 5, cfg["cross_attention_dim"])
    out = unet(P, cfg, sample, timestep, context)
    folder = OUT / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    save(folder / "diffusion_pytorch_model.safetensors", P.tensors)
    io = {"sample": nhwc(sample), "timestep": timestep.reshape(-1), "encoder_hidden_states": context, "output": nhwc(out)}
    save(folder / "io.safetensors", {f"io.{k}": v for k, v in io.items()})


def main():
    fixture("nn-layers", 1, nn_layers)
    fixture("embeddings", 2, embeddings)
    fixture("resnet", 3, resnet_case(8, 2.0))
    fixture("resnet-shortcut", 4, resnet_case(12, 1.0))
    for seed, fn in enumerate(["downsample", "downsample_pad0", "upsample", "upsample_size"], start=5):
        fixture(fn.replace("_", "-"), seed, sampler_case(fn))
    fixture("attention-self", 9, attention_case(False))
    fixture("attention-cross", 10, attention_case(True))
    fixture("transformer-block", 11, transformer_block_case)
    fixture("transformer-2d-conv", 12, transformer_2d_case(False, 1))
    fixture("transformer-2d-linear", 13, transformer_2d_case(True, 2))
    tiny_unet("tiny-unet-sd15", TINY_SD15, 14, 8, 8, torch.tensor(981.0))
    tiny_unet("tiny-unet-sd2", TINY_SD2, 15, 7, 9, torch.tensor([10.0, 500.5]))


if __name__ == "__main__":
    main()
