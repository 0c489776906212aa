#!/usr/bin/env bash
# The GPU check (issue 15, item 7): AlignProp steps on SD1.5's architecture at 512² with random weights (no
# download), K=1 and K=all-50 with gradient checkpointing, batch 1 and 2, fp16 and bf16; prints one JSON object
# (s/step, samples/s, peak GPU memory per case, versions, GPU name) on stdout, progress on stderr. About 2-3 minutes
# on one H200; cases that would start after --budget-s (default 180 s) are skipped and listed as skipped.
#
#   bash scripts/gpu-check.sh > gpu.json            # on a CUDA host
#   bash scripts/gpu-check.sh --smoke               # the same code on the CPU, tiny sizes, seconds
#
# A host with torch, transformers, peft, accelerate, safetensors and huggingface_hub but no diffusers (and no network)
# gets diffusers from wheels carried in .whl/, fetched beforehand on a machine with network by scripts/gpu-wheels.sh:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d .whl diffusers==0.42.1 importlib_metadata==10.2.0
# When the interpreter cannot import diffusers, those are installed into /tmp/site, which goes first on PYTHONPATH
# (PYTHON overrides the interpreter, e.g. the project's .venv/bin/python, which has diffusers).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import diffusers" 2> /dev/null; then
  compgen -G ".whl/*.whl" > /dev/null || { echo "gpu-check: no diffusers and no .whl/: run scripts/gpu-wheels.sh first" >&2; exit 1; }
  # A wheel is a zip of the files --target would write: without pip, unpacking it is the same install.
  "$PYTHON" -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl ||
    for wheel in .whl/*.whl; do "$PYTHON" -m zipfile -e "$wheel" /tmp/site; done
  export PYTHONPATH="/tmp/site:$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
fi
exec "$PYTHON" -m alignprop_torch.gpu_check "$@"
