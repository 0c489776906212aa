"""A Hub pipeline's files fetched before diffusers loads them, so that start-up can show download progress (diffusers'
`from_pretrained` reports none): huggingface_hub's own `snapshot_download` into the standard cache, limited to the
files a diffusers pipeline loads (names from diffusers, transformers and the scheduler class), its byte and file
counts reported as "download" updates the way src/trainer/jobs.ts reports its own downloads. `from_pretrained` then
finds them in the cache and fetches anything else it needs itself."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from alignprop_torch.trainer.progress import ProgressListener, ProgressUpdate

#: The networks' folders, as alignprop_torch.pipeline loads them.
NETWORKS = ("unet", "vae", "text_encoder")


def pipeline_patterns() -> list[str]:
    """model_index.json, each network's config and safetensors weights, the tokenizer folder, the scheduler's config."""
    from diffusers import DDIMScheduler
    from diffusers.utils import CONFIG_NAME, SAFETENSORS_WEIGHTS_NAME
    from transformers.utils import CONFIG_NAME as TRANSFORMERS_CONFIG
    from transformers.utils import SAFE_WEIGHTS_NAME

    weights = {"unet": SAFETENSORS_WEIGHTS_NAME, "vae": SAFETENSORS_WEIGHTS_NAME, "text_encoder": SAFE_WEIGHTS_NAME}
    config = {"unet": CONFIG_NAME, "vae": CONFIG_NAME, "text_encoder": TRANSFORMERS_CONFIG}
    patterns = ["model_index.json", "tokenizer/*", f"scheduler/{DDIMScheduler.config_name}"]
    for name in NETWORKS:
        patterns += [f"{name}/{config[name]}", f"{name}/{weights[name]}"]
    return patterns


def is_hub_download(model: str) -> bool:
    """A Hub id to fetch: not a folder here, "namespace/name", and the Hub not switched off (HF_HUB_OFFLINE)."""
    from huggingface_hub import constants

    parts = model.split("/")
    return not Path(model).exists() and len(parts) == 2 and all(parts) and not constants.HF_HUB_OFFLINE


def fetch_pipeline(repo_id: str, report: ProgressListener) -> str:
    """Downloads the pipeline's files into the cache (those present are not fetched again); returns the snapshot."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    counts = {"bytes": 0.0, "bytes_total": 0.0, "files": 0, "files_total": 0}

    def send() -> None:
        report(
            ProgressUpdate(
                phase="download",
                item=repo_id,
                done=counts["bytes"],
                total=counts["bytes_total"],
                unit="bytes",
                items_done=int(counts["files"]),
                items_total=int(counts["files_total"]),
            )
        )

    class Reporting(tqdm):  # type: ignore[misc]
        """huggingface_hub's bars, drawn nowhere: the bytes bar (unit "B", "Reconstructing…": every chunk written)
        and the files bar (one update a file) feed the counts."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["file"] = io.StringIO()
            super().__init__(*args, **kwargs)
            self.kind = "bytes" if self.unit == "B" and str(self.desc).startswith("Reconstructing") else None
            if self.unit != "B":
                self.kind = "files"
                counts["files_total"] = self.total or 0

        def update(self, n: float | None = 1) -> bool | None:
            shown = super().update(n)
            if self.kind == "bytes":
                counts["bytes"], counts["bytes_total"] = float(self.n), float(self.total or 0)
            elif self.kind == "files":
                counts["files"] = int(self.n)
            if self.kind is not None:
                send()
            return shown

    path = snapshot_download(repo_id, allow_patterns=pipeline_patterns(), tqdm_class=Reporting)
    send()
    return os.fspath(path)
