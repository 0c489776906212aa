# The alignprop trainer on a GPU host: CUDA 11.2 + cuDNN 8 (what @tensorflow/tfjs-node-gpu 4.x links against), Node 22,
# production dependencies plus tfjs-node-gpu with its install script allowed (it fetches libtensorflow at build time).
FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04

ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl gnupg build-essential python3 \
 && curl -fsSL https://deb.nodesource.com/setup_22.x | bash - \
 && apt-get install -y --no-install-recommends nodejs \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json tsconfig.json .npmrc buf.yaml buf.gen.yaml ./
COPY proto ./proto
COPY src ./src
COPY ui ./ui
COPY test ./test
COPY configs ./configs
# The embedded default pipeline and its rewards: the compose default run (configs/quickstart.json) trains it.
COPY models ./models
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && npm install --no-save --foreground-scripts --allow-scripts @tensorflow/tfjs-node-gpu@4.22.0 \
 && npm prune --omit=dev

ENV TF_FORCE_GPU_ALLOW_GROWTH=true
ENV HF_HOME=/hf-cache
VOLUME ["/app/runs", "/app/logs", "/hf-cache"]
EXPOSE 5555 5556 5557
ENTRYPOINT ["node", "dist/src/cli/main.js"]
CMD ["train", "--headless", "--backend", "tensorflow-gpu", "--bind", "tcp://127.0.0.1:5555"]
