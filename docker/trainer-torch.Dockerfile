# The alignprop trainer with the PyTorch engine (`--engine torch`) on a GPU host: CUDA 12.8 + cuDNN 9 PyTorch runtime
# (native kernels for Ampere, Ada, Hopper and Blackwell), Node 22 for the CLI that validates the config, serves the
# wire's front end and spawns `python -m alignprop_torch.trainer` (src/python/torch-trainer.ts) with this image's Python.
FROM pytorch/pytorch:2.9.0-cuda12.8-cudnn9-runtime

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg build-essential \
 && curl -fsSL https://deb.nodesource.com/setup_22.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

# The CLI runs Python through ALIGNPROP_PYTHON (src/python/env.ts: projectPython), so no .venv is made in the image.
ENV ALIGNPROP_PYTHON=/opt/conda/bin/python

WORKDIR /app
COPY package.json package-lock.json tsconfig.json .npmrc buf.yaml buf.gen.yaml ./
COPY proto ./proto
COPY src ./src
COPY ui ./ui
COPY test ./test
COPY configs ./configs
# The embedded default pipeline and its rewards: the compose default run (configs/quickstart.json) trains it.
COPY models ./models
COPY python ./python
# The project's pinned Python packages except torch, which stays the image's CUDA build (the lock pins the CPU wheel);
# the constraint keeps pip from replacing it. diffusers, transformers, peft and accelerate need torch >= 2.6.
RUN grep -v '^torch==' python/requirements.lock > /tmp/requirements-without-torch.txt \
 && "$ALIGNPROP_PYTHON" -c 'import torch; print("torch==" + torch.__version__)' > /tmp/torch-constraint.txt \
 && "$ALIGNPROP_PYTHON" -m pip install --no-cache-dir -r /tmp/requirements-without-torch.txt -c /tmp/torch-constraint.txt \
 && cd python && "$ALIGNPROP_PYTHON" -c 'import torch, diffusers, transformers, peft, accelerate, alignprop_torch.trainer; assert torch.version.cuda.startswith("12.")'
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev

ENV HF_HOME=/hf-cache
VOLUME ["/app/runs", "/app/logs", "/hf-cache"]
EXPOSE 5555 5556 5557
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["train", "--headless", "--engine", "torch", "--bind", "tcp://127.0.0.1:5555"]
