"""test/fixtures/unet/: torch.nn's layers, diffusers' UNet blocks and two tiny UNet2DConditionModels, in float64.

Each block fixture is one safetensors file: the module's state dict under its diffusers keys plus inputs and outputs
under `io.*`. Images are saved NHWC (the TF.js layout), parameters in PyTorch layout. The tiny UNets are saved as
diffusers saves a model (`config.json`, `diffusion_pytorch_model.safetensors`) with `io.safetensors` beside them.
Together the two UNets use every block SD1.x/2.x use: CrossAttnDownBlock2D, DownBlock2D, UNetMidBlock2DCrossAttn,
CrossAttnUpBlock2D, UpBlock2D, 1×1-conv and linear projections, `attention_head_dim` as a number and as a list.
"""

from collections.abc import Callable
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel
from diffusers.models.attention import BasicTransformerBlock
from diffusers.models.attention_processor import Attention
from diffusers.models.downsampling import Downsample2D
from diffusers.models.embeddings import TimestepEmbedding, get_timestep_embedding
from diffusers.models.resnet import ResnetBlock2D
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from diffusers.models.upsampling import Upsample2D
from torch import nn

from .common import Seeded, nhwc, save, sd15_config, state_dict, write_json, write_keys

FOLDER = "unet"

Build = Callable[[Seeded], tuple[nn.Module, dict[str, torch.Tensor]]]


def nn_layers(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """torch.nn's Linear, Conv2d (stride 1/2, padding 0/1), GroupNorm and LayerNorm, as src/models/nn/layers.ts."""
    m = nn.Module()
    m.linear = nn.Linear(6, 7)
    m.linear_no_bias = nn.Linear(6, 7, bias=False)
    convs = {"conv_k3_s1_p1": (3, 1, 1), "conv_k3_s1_p0": (3, 1, 0), "conv_k1_s1_p0": (1, 1, 0),
             "conv_k3_s2_p1": (3, 2, 1), "conv_k3_s2_p0": (3, 2, 0)}
    for name, (kernel, stride, padding) in convs.items():
        setattr(m, name, nn.Conv2d(6, 4, kernel, stride, padding))
    m.group_norm = nn.GroupNorm(4, 8, eps=1e-5)
    m.group_norm_eps6 = nn.GroupNorm(2, 8, eps=1e-6)
    m.layer_norm = nn.LayerNorm(6)
    s.init(m)
    x = s.randn(2, 5, 6)
    img = s.randn(2, 6, 7, 9)  # NCHW, odd sizes so strided outputs round down
    gn_in = 3 + s.randn(2, 8, 5, 3, scale=2)  # mean and scale away from 0 and 1
    ln_in = 1 - s.randn(2, 5, 6, scale=3)
    io = {"linear.input": x, "linear.output": m.linear(x), "linear_no_bias.output": m.linear_no_bias(x),
          "conv.input": nhwc(img), "group_norm.input": nhwc(gn_in),
          "group_norm.output": nhwc(m.group_norm(gn_in)), "group_norm_eps6.output": nhwc(m.group_norm_eps6(gn_in)),
          "layer_norm.input": ln_in, "layer_norm.output": m.layer_norm(ln_in)}
    for name in convs:
        io[f"{name}.output"] = nhwc(getattr(m, name)(img))
    return m, io


def embeddings(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    """get_timestep_embedding (diffusers computes it in float32) and TimestepEmbedding."""
    m = s.init(TimestepEmbedding(8, 16))
    t = torch.tensor([0, 1, 500.5, 981], dtype=torch.float64)
    proj = get_timestep_embedding(t, 8, flip_sin_to_cos=True, downscale_freq_shift=0).double()
    odd = get_timestep_embedding(t, 7, flip_sin_to_cos=False, downscale_freq_shift=1).double()
    return m, {"timesteps": t, "proj": proj, "proj_odd_unflipped_shift1": odd, "output": m(proj)}


def resnet(out_channels: int, output_scale_factor: float) -> Build:
    def build(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
        m = s.init(ResnetBlock2D(in_channels=8, out_channels=out_channels, temb_channels=16, groups=4, eps=1e-5,
                                 output_scale_factor=output_scale_factor))
        x, temb = s.randn(2, 8, 6, 5), s.randn(2, 16)
        return m, {"input": nhwc(x), "temb": temb, "output": nhwc(m(x, temb))}
    return build


def sampler(kind: str) -> Build:
    def build(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
        if kind.startswith("downsample"):
            # name="op" as the UNet builds it (name="conv" would also register the alias Conv2d_0)
            padding = 0 if kind.endswith("pad0") else 1
            m = s.init(Downsample2D(4, use_conv=True, out_channels=4, padding=padding, name="op"))
            x = s.randn(2, 4, 7, 9)
            y = m(x)
        else:
            m = s.init(Upsample2D(4, use_conv=True, out_channels=4))
            x = s.randn(2, 4, 4, 5) if kind == "upsample-size" else s.randn(2, 4, 7, 9)
            y = m(x, output_size=(7, 9)) if kind == "upsample-size" else m(x)
        return m, {"input": nhwc(x), "output": nhwc(y)}
    return build


def attention(cross: bool) -> Build:
    def build(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
        m = s.init(Attention(16, cross_attention_dim=12 if cross else None, heads=2, dim_head=8))
        x = s.randn(2, 10, 16)
        if not cross:
            return m, {"input": x, "output": m(x)}
        context = s.randn(2, 5, 12)
        return m, {"input": x, "context": context, "output": m(x, encoder_hidden_states=context)}
    return build


def transformer_block(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
    m = s.init(BasicTransformerBlock(16, 2, 8, cross_attention_dim=12))
    x, context = s.randn(2, 10, 16), s.randn(2, 5, 12)
    return m, {"input": x, "context": context, "output": m(x, encoder_hidden_states=context)}


def transformer_2d(use_linear_projection: bool, num_layers: int) -> Build:
    def build(s: Seeded) -> tuple[nn.Module, dict[str, torch.Tensor]]:
        m = s.init(Transformer2DModel(num_attention_heads=2, attention_head_dim=8, in_channels=16,
                                      num_layers=num_layers, norm_num_groups=4, cross_attention_dim=12,
                                      use_linear_projection=use_linear_projection))
        x, context = s.randn(2, 16, 3, 4), s.randn(2, 5, 12)
        y = m(x, encoder_hidden_states=context).sample
        return m, {"input": nhwc(x), "context": context, "output": nhwc(y)}
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

# The weight whose gradient the TF.js test compares (a cross-attention query in the up path).
GRAD_KEY = "up_blocks.1.attentions.0.transformer_blocks.0.attn2.to_q.weight"


def tiny_unet(out: Path, config: dict, seed: int, size: tuple[int, int], timestep: torch.Tensor,
              gradient: bool = False) -> None:
    """The model, its inputs and output; with `gradient` also d mean(output²) / d(sample, GRAD_KEY)."""
    s = Seeded(seed)
    model = s.init(UNet2DConditionModel.from_config(config))
    sample, context = s.randn(2, 4, *size), s.randn(2, 5, config["cross_attention_dim"])
    sample.requires_grad_(True)
    output = model(sample, timestep, encoder_hidden_states=context).sample
    io = {"sample": nhwc(sample), "timestep": timestep.reshape(-1), "encoder_hidden_states": context,
          "output": nhwc(output)}
    if gradient:
        weight = model.get_parameter(GRAD_KEY)
        grad_sample, grad_weight = torch.autograd.grad(output.square().mean(), [sample, weight])
        io.update({"grad_mean_square.sample": nhwc(grad_sample), "grad_mean_square.weight": grad_weight})
    write_json(out / "config.json", config)
    save(out / "diffusion_pytorch_model.safetensors", state_dict(model))
    save(out / "io.safetensors", {f"io.{k}": v for k, v in io.items()})


SD15_UNET = sd15_config("unet")


def generate(root: Path) -> None:
    out = root / FOLDER
    blocks: list[tuple[str, int, Build]] = [
        ("nn-layers", 1, nn_layers),
        ("embeddings", 2, embeddings),
        ("resnet", 3, resnet(8, 2.0)),
        ("resnet-shortcut", 4, resnet(12, 1.0)),
        ("downsample", 5, sampler("downsample")),
        ("downsample-pad0", 6, sampler("downsample-pad0")),
        ("upsample", 7, sampler("upsample")),
        ("upsample-size", 8, sampler("upsample-size")),
        ("attention-self", 9, attention(False)),
        ("attention-cross", 10, attention(True)),
        ("transformer-block", 11, transformer_block),
        ("transformer-2d-conv", 12, transformer_2d(False, 1)),
        ("transformer-2d-linear", 13, transformer_2d(True, 2)),
    ]
    for name, seed, build in blocks:
        module, io = build(Seeded(seed))
        save(out / f"{name}.safetensors", {**state_dict(module), **{f"io.{k}": v for k, v in io.items()}})
    tiny_unet(out / "tiny-unet-sd15", TINY_SD15, 14, (8, 8), torch.tensor(981.0, dtype=torch.float64), gradient=True)
    tiny_unet(out / "tiny-unet-sd2", TINY_SD2, 15, (7, 9), torch.tensor([10.0, 500.5], dtype=torch.float64))
    with torch.device("meta"):
        sd15 = UNet2DConditionModel.from_config(SD15_UNET)
    write_json(out / "sd15-unet.config.json", SD15_UNET)
    write_keys(out / "sd15-unet.keys.txt", sd15, "unet state-dict keys and shapes (PyTorch layout) of diffusers' "
               "UNet2DConditionModel for the Stable Diffusion v1.5 config.")
