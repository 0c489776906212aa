#!/usr/bin/python3
"""PyTorch reference for the TF.js AutoencoderKL and CLIPTextModel (test/models-vae-clip/).

Written from diffusers' (autoencoders/vae.py, resnet.py, attention_processor.py) and transformers'
(models/clip/modeling_clip.py) forward passes with torch.nn.functional primitives, in float64 on weights and
inputs that were first rounded to float32 (what the fixtures store). Writes test/fixtures/vae-clip/*.safetensors:

  vae-attention.safetensors   mid-block attention weights (diffusers names)
  vae.safetensors             tiny AutoencoderKL weights, current keys
  vae-old-keys.safetensors    the same weights with query/key/value/proj_attn names and [C, C, 1, 1] shapes
  vae-io.safetensors          inputs and outputs of the three VAE checks (NCHW, PyTorch layout)
  clip-layer-quick_gelu.safetensors, clip-layer-gelu.safetensors   one CLIPEncoderLayer each
  clip-text.safetensors       tiny CLIPTextModel weights + an F32 position_ids buffer (real files hold int64;
                              our safetensors reader is F32-only, so the ignore rule is tested with F32)
  clip-io.safetensors         inputs and outputs of the CLIP checks (ids stored as F32)

Run: /usr/bin/python3 scripts/reference/vae_clip.py   (torch 1.13, numpy; no diffusers/transformers needed)
"""
import json
import math
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "test", "fixtures", "vae-clip")
torch.manual_seed(1234)

# ---------------------------------------------------------------------------------------------------------------
# safetensors (F32 only) and random values rounded to F32 then held as float64


def save(name, tensors):
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        arr = np.ascontiguousarray(tensors[key].detach().numpy().astype("<f4"))
        header[key] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
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
    print(f"{name}: {len(tensors)} tensors, {os.path.getsize(path):,} bytes")


def f32(t):
    return t.float().double()


def linear_w(out_f, in_f, gain=1.0):
    return f32(torch.randn(out_f, in_f) * gain / math.sqrt(in_f))


def conv_w(out_c, in_c, k):
    return f32(torch.randn(out_c, in_c, k, k) / math.sqrt(in_c * k * k))


def bias(n):
    return f32(0.1 * torch.randn(n))


def norm(prefix, n, sd):
    sd[prefix + ".weight"] = f32(1 + 0.1 * torch.randn(n))
    sd[prefix + ".bias"] = bias(n)


# ---------------------------------------------------------------------------------------------------------------
# VAE (diffusers AutoencoderKL), NCHW
EPS = 1e-6
GROUPS = 4
CHANNELS = [8, 16]
LAYERS = 1
LATENT = 4


def make_conv(sd, prefix, out_c, in_c, k):
    sd[prefix + ".weight"] = conv_w(out_c, in_c, k)
    sd[prefix + ".bias"] = bias(out_c)


def make_resnet(sd, p, cin, cout):
    norm(p + ".norm1", cin, sd)
    make_conv(sd, p + ".conv1", cout, cin, 3)
    norm(p + ".norm2", cout, sd)
    make_conv(sd, p + ".conv2", cout, cout, 3)
    if cin != cout:
        make_conv(sd, p + ".conv_shortcut", cout, cin, 1)


def make_attention(sd, p, c):
    norm(p + ".group_norm", c, sd)
    for name in ("to_q", "to_k", "to_v", "to_out.0"):
        # Larger q/k so the softmax is far from uniform and a wrong axis would show.
        sd[f"{p}.{name}.weight"] = linear_w(c, c, gain=2.5 if name in ("to_q", "to_k") else 1.0)
        sd[f"{p}.{name}.bias"] = bias(c)


def make_mid(sd, p, c):
    make_resnet(sd, p + ".resnets.0", c, c)
    make_attention(sd, p + ".attentions.0", c)
    make_resnet(sd, p + ".resnets.1", c, c)


def resnet(sd, p, x):
    # ResnetBlock2D, temb None: norm1 → silu → conv1 → norm2 → silu → conv2, + (1×1 shortcut) input
    h = F.silu(F.group_norm(x, GROUPS, sd[p + ".norm1.weight"], sd[p + ".norm1.bias"], EPS))
    h = F.conv2d(h, sd[p + ".conv1.weight"], sd[p + ".conv1.bias"], padding=1)
    h = F.silu(F.group_norm(h, GROUPS, sd[p + ".norm2.weight"], sd[p + ".norm2.bias"], EPS))
    h = F.conv2d(h, sd[p + ".conv2.weight"], sd[p + ".conv2.bias"], padding=1)
    if p + ".conv_shortcut.weight" in sd:
        x = F.conv2d(x, sd[p + ".conv_shortcut.weight"], sd[p + ".conv_shortcut.bias"])
    return x + h


def attention(sd, p, x):
    # Attention(heads=1, residual_connection=True, rescale_output_factor=1) with AttnProcessor2_0
    b, c, hgt, wid = x.shape
    residual = x
    h = F.group_norm(x, GROUPS, sd[p + ".group_norm.weight"], sd[p + ".group_norm.bias"], EPS)
    h = h.view(b, c, hgt * wid).transpose(1, 2)  # [B, N, C]
    q = F.linear(h, sd[p + ".to_q.weight"], sd[p + ".to_q.bias"])
    k = F.linear(h, sd[p + ".to_k.weight"], sd[p + ".to_k.bias"])
    v = F.linear(h, sd[p + ".to_v.weight"], sd[p + ".to_v.bias"])
    probs = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(c), dim=-1)
    h = F.linear(probs @ v, sd[p + ".to_out.0.weight"], sd[p + ".to_out.0.bias"])
    h = h.transpose(1, 2).reshape(b, c, hgt, wid)
    return h + residual


def mid(sd, p, x):
    return resnet(sd, p + ".resnets.1", attention(sd, p + ".attentions.0", resnet(sd, p + ".resnets.0", x)))


def make_vae():
    sd = {}
    make_conv(sd, "encoder.conv_in", CHANNELS[0], 3, 3)
    cin = CHANNELS[0]
    for i, cout in enumerate(CHANNELS):
        for j in range(LAYERS):
            make_resnet(sd, f"encoder.down_blocks.{i}.resnets.{j}", cin if j == 0 else cout, cout)
        if i < len(CHANNELS) - 1:
            make_conv(sd, f"encoder.down_blocks.{i}.downsamplers.0.conv", cout, cout, 3)
        cin = cout
    make_mid(sd, "encoder.mid_block", CHANNELS[-1])
    norm("encoder.conv_norm_out", CHANNELS[-1], sd)
    make_conv(sd, "encoder.conv_out", 2 * LATENT, CHANNELS[-1], 3)
    make_conv(sd, "quant_conv", 2 * LATENT, 2 * LATENT, 1)
    make_conv(sd, "post_quant_conv", LATENT, LATENT, 1)
    rev = CHANNELS[::-1]
    make_conv(sd, "decoder.conv_in", rev[0], LATENT, 3)
    make_mid(sd, "decoder.mid_block", rev[0])
    cin = rev[0]
    for i, cout in enumerate(rev):
        for j in range(LAYERS + 1):
            make_resnet(sd, f"decoder.up_blocks.{i}.resnets.{j}", cin if j == 0 else cout, cout)
        if i < len(rev) - 1:
            make_conv(sd, f"decoder.up_blocks.{i}.upsamplers.0.conv", cout, cout, 3)
        cin = cout
    norm("decoder.conv_norm_out", CHANNELS[0], sd)
    make_conv(sd, "decoder.conv_out", 3, CHANNELS[0], 3)
    return sd


def encode(sd, x):
    h = F.conv2d(x, sd["encoder.conv_in.weight"], sd["encoder.conv_in.bias"], padding=1)
    for i in range(len(CHANNELS)):
        for j in range(LAYERS):
            h = resnet(sd, f"encoder.down_blocks.{i}.resnets.{j}", h)
        p = f"encoder.down_blocks.{i}.downsamplers.0.conv"
        if p + ".weight" in sd:
            # Downsample2D(padding=0): pad (left 0, right 1, top 0, bottom 1), conv stride 2, no padding
            h = F.conv2d(F.pad(h, (0, 1, 0, 1)), sd[p + ".weight"], sd[p + ".bias"], stride=2)
    h = mid(sd, "encoder.mid_block", h)
    h = F.silu(F.group_norm(h, GROUPS, sd["encoder.conv_norm_out.weight"], sd["encoder.conv_norm_out.bias"], EPS))
    h = F.conv2d(h, sd["encoder.conv_out.weight"], sd["encoder.conv_out.bias"], padding=1)
    moments = F.conv2d(h, sd["quant_conv.weight"], sd["quant_conv.bias"])
    mean, logvar = torch.chunk(moments, 2, dim=1)  # DiagonalGaussianDistribution
    return mean, torch.clamp(logvar, -30.0, 20.0)


def decode(sd, z):
    z = F.conv2d(z, sd["post_quant_conv.weight"], sd["post_quant_conv.bias"])
    h = F.conv2d(z, sd["decoder.conv_in.weight"], sd["decoder.conv_in.bias"], padding=1)
    h = mid(sd, "decoder.mid_block", h)
    for i in range(len(CHANNELS)):
        for j in range(LAYERS + 1):
            h = resnet(sd, f"decoder.up_blocks.{i}.resnets.{j}", h)
        p = f"decoder.up_blocks.{i}.upsamplers.0.conv"
        if p + ".weight" in sd:
            h = F.conv2d(F.interpolate(h, scale_factor=2.0, mode="nearest"), sd[p + ".weight"], sd[p + ".bias"], padding=1)
    h = F.silu(F.group_norm(h, GROUPS, sd["decoder.conv_norm_out.weight"], sd["decoder.conv_norm_out.bias"], EPS))
    return F.conv2d(h, sd["decoder.conv_out.weight"], sd["decoder.conv_out.bias"], padding=1)


OLD_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def with_old_keys(sd):
    out = {}
    for key, t in sd.items():
        for new, old in OLD_NAMES.items():
            marker = f".attentions.0.{new}."
            if marker in key:
                key = key.replace(marker, f".attentions.0.{old}.")
                if key.endswith(".weight"):
                    t = t.reshape(*t.shape, 1, 1)
        out[key] = t
    return out


def vae_fixtures():
    attn = {}
    make_attention(attn, "a", 16)
    attn = {k[2:]: v for k, v in attn.items()}
    attn_in = f32(torch.randn(2, 16, 4, 6))
    attn_out = attention({"a." + k: v for k, v in attn.items()}, "a", attn_in)

    sd = make_vae()
    images = f32(torch.rand(2, 3, 16, 12) * 2 - 1)
    mean, logvar = encode(sd, images)
    latents = f32(torch.randn(2, LATENT, 8, 6)).requires_grad_()
    decoded = decode(sd, latents)
    (grad,) = torch.autograd.grad(decoded.square().mean(), latents)  # AlignProp backpropagates through decode
    save("vae-attention.safetensors", attn)
    save("vae.safetensors", sd)
    save("vae-old-keys.safetensors", with_old_keys(sd))
    save("vae-io.safetensors", {
        "attention.input": attn_in, "attention.output": attn_out,
        "encode.images": images, "encode.mean": mean, "encode.logvar": logvar,
        "decode.latents": latents, "decode.images": decoded, "decode.grad_mean_square": grad,
    })
    print("vae params:", sum(t.numel() for t in sd.values()), " |decoded| max:", decoded.abs().max().item())


# ---------------------------------------------------------------------------------------------------------------
# CLIP text (transformers CLIPTextModel)
HIDDEN, INTER, HEADS, LAYERS_CLIP, VOCAB, MAX_POS, LN_EPS = 32, 37, 4, 5, 1000, 77, 1e-5
ACTS = {"quick_gelu": lambda x: x * torch.sigmoid(1.702 * x), "gelu": lambda x: F.gelu(x)}


def make_layer(sd, p):
    for name in ("k_proj", "v_proj", "q_proj", "out_proj"):
        sd[f"{p}self_attn.{name}.weight"] = linear_w(HIDDEN, HIDDEN, gain=2.0 if name in ("q_proj", "k_proj") else 1.0)
        sd[f"{p}self_attn.{name}.bias"] = bias(HIDDEN)
    norm(p + "layer_norm1", HIDDEN, sd)
    sd[p + "mlp.fc1.weight"] = linear_w(INTER, HIDDEN)
    sd[p + "mlp.fc1.bias"] = bias(INTER)
    sd[p + "mlp.fc2.weight"] = linear_w(HIDDEN, INTER)
    sd[p + "mlp.fc2.bias"] = bias(HIDDEN)
    norm(p + "layer_norm2", HIDDEN, sd)


def causal_mask(t):
    # transformers' _create_4d_causal_attention_mask: finfo.min above the diagonal, 0 elsewhere
    return torch.triu(torch.full((t, t), torch.finfo(torch.float64).min, dtype=torch.float64), diagonal=1)


def layer(sd, p, x, act):
    b, t, d = x.shape
    hd = d // HEADS

    def heads(y):
        return y.view(b, t, HEADS, hd).transpose(1, 2)  # [B, h, T, hd]

    residual = x
    h = F.layer_norm(x, (d,), sd[p + "layer_norm1.weight"], sd[p + "layer_norm1.bias"], LN_EPS)
    q = heads(F.linear(h, sd[p + "self_attn.q_proj.weight"], sd[p + "self_attn.q_proj.bias"]) * hd ** -0.5)
    k = heads(F.linear(h, sd[p + "self_attn.k_proj.weight"], sd[p + "self_attn.k_proj.bias"]))
    v = heads(F.linear(h, sd[p + "self_attn.v_proj.weight"], sd[p + "self_attn.v_proj.bias"]))
    probs = torch.softmax(q @ k.transpose(-1, -2) + causal_mask(t), dim=-1)
    h = (probs @ v).transpose(1, 2).reshape(b, t, d)
    h = residual + F.linear(h, sd[p + "self_attn.out_proj.weight"], sd[p + "self_attn.out_proj.bias"])
    residual = h
    h = F.layer_norm(h, (d,), sd[p + "layer_norm2.weight"], sd[p + "layer_norm2.bias"], LN_EPS)
    h = F.linear(ACTS[act](F.linear(h, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])), sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])
    return residual + h


def text_model(sd, ids, act):
    t = ids.shape[1]
    h = sd["text_model.embeddings.token_embedding.weight"][ids] + sd["text_model.embeddings.position_embedding.weight"][:t]
    for i in range(LAYERS_CLIP):
        h = layer(sd, f"text_model.encoder.layers.{i}.", h, act)
    return F.layer_norm(h, (HIDDEN,), sd["text_model.final_layer_norm.weight"], sd["text_model.final_layer_norm.bias"], LN_EPS)


def pooled(hidden, ids, eos_token_id):
    # transformers: eos_token_id 2 → argmax of ids (old configs); else first position equal to eos_token_id
    rows = torch.arange(ids.shape[0])
    if eos_token_id == 2:
        return hidden[rows, ids.to(torch.int).argmax(dim=-1)]
    return hidden[rows, (ids.to(torch.int) == eos_token_id).int().argmax(dim=-1)]


def clip_fixtures():
    io = {}
    x = f32(torch.randn(2, 12, HIDDEN))
    io["layer.input"] = x
    for act in ACTS:
        sd = {}
        make_layer(sd, "")
        save(f"clip-layer-{act}.safetensors", sd)
        io[f"layer.output.{act}"] = layer(sd, "", x, act)

    sd = {"text_model.embeddings.token_embedding.weight": f32(torch.randn(VOCAB, HIDDEN)),
          "text_model.embeddings.position_embedding.weight": f32(0.5 * torch.randn(MAX_POS, HIDDEN))}
    for i in range(LAYERS_CLIP):
        make_layer(sd, f"text_model.encoder.layers.{i}.")
    norm("text_model.final_layer_norm", HIDDEN, sd)
    print("clip params:", sum(t.numel() for t in sd.values()))

    # bos 998, eos 999 (the largest id, like CLIP's 49407); row 0 pads with eos as SD's tokenizer does, row 1 with 0.
    # Token 500 appears before the eos so that "first position of eos_token_id=500" differs from the argmax rule.
    ids = torch.zeros(2, MAX_POS, dtype=torch.long)
    ids[0, :12] = torch.randint(0, 998, (12,))
    ids[0, 0], ids[0, 4], ids[0, 12:] = 998, 500, 999
    ids[1, :32] = torch.randint(0, 998, (32,))
    ids[1, 0], ids[1, 7], ids[1, 20], ids[1, 32] = 998, 500, 500, 999
    hidden = text_model(sd, ids, "quick_gelu")
    io["text.ids"] = ids.double()
    io["text.last_hidden_state"] = hidden
    io["text.pooled.eos2"] = pooled(hidden, ids, 2)
    io["text.pooled.eos500"] = pooled(hidden, ids, 500)
    sd["text_model.embeddings.position_ids"] = torch.arange(MAX_POS).double().unsqueeze(0)
    save("clip-text.safetensors", sd)
    save("clip-io.safetensors", io)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    vae_fixtures()
    clip_fixtures()
