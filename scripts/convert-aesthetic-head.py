#!/usr/bin/python3
"""Converts the LAION aesthetic head (a PyTorch state dict, .pth) to safetensors for `--reward aesthetic:head=…`.

The head TRL's AlignProp and DDPO examples use is trl-lib/ddpo-aesthetic-predictor's aesthetic-model.pth (the same
weights as LAION's improved-aesthetic-predictor sac+logos+ava1-l14-linearMSE.pth): an nn.Sequential of Linear
768→1024, Dropout, Linear 1024→128, Dropout, Linear 128→64, Dropout, Linear 64→16, Linear 16→1, so its keys are
layers.{0,2,4,6,7}.{weight,bias}. This script reads it with torch.load(weights_only=True), which unpickles tensors
and containers only and refuses to run any other code in the file, checks the keys and shapes, and writes them as F32
safetensors under the same names. Run it once:

  huggingface-cli download trl-lib/ddpo-aesthetic-predictor aesthetic-model.pth --local-dir .
  /usr/bin/python3 scripts/convert-aesthetic-head.py aesthetic-model.pth aesthetic-head.safetensors
  alignprop train --model runwayml/stable-diffusion-v1-5 --reward aesthetic:head=./aesthetic-head.safetensors

Needs torch ≥ 1.13 (for weights_only) and numpy; not the safetensors package.
"""
import json
import struct
import sys

import torch

LINEARS = [0, 2, 4, 6, 7]


def convert(src, dst):
    state = torch.load(src, map_location="cpu", weights_only=True)
    if not isinstance(state, dict):
        sys.exit(f"{src} holds a {type(state).__name__}, not a state dict")
    # Some copies are saved from a wrapper module whose head attribute prefixes every key (e.g. "mlp.layers.0.weight").
    prefixes = {k[: k.index("layers.")] for k in state if "layers." in k}
    if len(prefixes) != 1:
        sys.exit(f"{src}: expected keys layers.N.weight/bias, got {sorted(state)}")
    prefix = prefixes.pop()
    tensors = {}
    width = None
    for i in LINEARS:
        w, b = state.get(f"{prefix}layers.{i}.weight"), state.get(f"{prefix}layers.{i}.bias")
        if w is None or b is None or w.dim() != 2 or b.shape != (w.shape[0],):
            sys.exit(f"{src}: layers.{i} is not a Linear layer (weight {None if w is None else tuple(w.shape)})")
        if width is not None and w.shape[1] != width:
            sys.exit(f"{src}: layers.{i}.weight is {tuple(w.shape)} but the previous layer gives {width} features")
        width = w.shape[0]
        tensors[f"layers.{i}.weight"] = w
        tensors[f"layers.{i}.bias"] = b
    extra = sorted(set(state) - {prefix + k for k in tensors})
    if extra:
        sys.exit(f"{src}: unexpected keys {extra}")
    if width != 1:
        sys.exit(f"{src}: the last layer gives {width} outputs, not one score")
    write_safetensors(dst, tensors)
    widths = [tensors["layers.0.weight"].shape[1]] + [tensors[f"layers.{i}.weight"].shape[0] for i in LINEARS]
    params = sum(t.numel() for t in tensors.values())
    print(f"{dst}: aesthetic head {'→'.join(str(n) for n in widths)}, {params:,} parameters")


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for key in sorted(tensors):
        arr = tensors[key].detach().float().numpy().astype("<f4").copy(order="C")
        header[key] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        blobs.append(arr.tobytes())
        offset += arr.nbytes
    text = json.dumps(header)
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for blob in blobs:
            f.write(blob)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: convert-aesthetic-head.py <aesthetic-model.pth> <aesthetic-head.safetensors>")
    convert(sys.argv[1], sys.argv[2])
