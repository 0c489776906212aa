#!/usr/bin/env bash
# Downloads into .whl/ the wheels scripts/gpu-check.sh installs on a GPU host that has torch, transformers, peft,
# accelerate, safetensors and huggingface_hub but no diffusers (and no network): diffusers itself and what it
# requires beyond that (its Requires-Dist, checked with
#   unzip -p .whl/diffusers-*.whl '*/METADATA' | grep ^Requires-Dist
# against what such a host has: accelerate, filelock, huggingface-hub, numpy, pillow, regex, requests, safetensors,
# zipp, httpx, tqdm, pyyaml, packaging). Pure-Python wheels, for CPython 3.12 on x86-64 Linux.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl \
  diffusers==0.42.1 importlib_metadata==10.2.0
