"""The torch engine's checkpoints and LoRA export in the run directory's format (src/run/README.md):
`checkpoints/checkpoint_<N>/model.safetensors` holds the LoRA under diffusers' keys (`unet.<module
path>.lora.down.weight` / `.lora.up.weight`), AdamW's moments (`optimizer.<key>.exp_avg` / `.exp_avg_sq`), its step
count (`optimizer.step`) and the algorithm's own tensors (DDPO's `ddpo.stat_tracker.<prompt>`); `state.json` holds
step, epoch, run id, the seq of the CheckpointSaved event and `engine: "torch"`, with torch's generator and
loss-scaler state as `rngState` (a data-parallel job's also holds `worldSize` and `rankGenerators`, every rank's
generator). `pytorch_lora_weights.safetensors` is written by diffusers' `save_lora_weights`,
alpha/r folded into the up weights and lora_alpha declared = r, as the TF.js export does (src/io/lora-weights.ts), so
every diffusers version loads it at the trained strength."""

from __future__ import annotations

import base64
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from diffusers import StableDiffusionPipeline
from diffusers.utils import convert_state_dict_to_diffusers
from safetensors.torch import load_file, save

from alignprop_torch.config import AlignPropConfig
from alignprop_torch.run_dir import (
    CHECKPOINT_STATE_FILE,
    CHECKPOINT_TENSORS_FILE,
    ENGINE,
    LORA_WEIGHTS_FILE,
    NonFiniteTensor,
    checkpoint_dir,
    fsync_dir,
    fsync_file,
    prune_checkpoints,
    read_checkpoint_state,
    write_dir_atomic,
    write_file_atomic,
)

#: peft's adapter name in parameter names; diffusers' keys leave it out (peft's get_peft_model_state_dict).
ADAPTER = "default"


@dataclass(frozen=True)
class CheckpointState:
    step: int
    seq: int
    run_id: str


def diffusers_keys(lora_names: list[str]) -> list[str]:
    """The UNet's LoRA parameter names (peft's, e.g. `….to_q.lora_A.default.weight`) as diffusers' file keys
    (`unet.….to_q.lora.down.weight`), through diffusers' own conversion."""
    peft_names = {name.replace(f".{ADAPTER}", ""): name for name in lora_names}
    converted = convert_state_dict_to_diffusers(dict.fromkeys(peft_names))
    if len(converted) != len(lora_names):
        raise ValueError(f"LoRA names do not map one to one onto diffusers keys: {sorted(lora_names)}")
    return [f"unet.{key}" for key in converted]


def checkpoint_tensors(lora_names: list[str], training: dict[str, Any]) -> dict[str, torch.Tensor]:
    """`training` is LoraTrainer.training_state(): the LoRA, AdamW's state_dict (params in lora_names order), the
    algorithm's `extra` tensors under their own keys."""
    tensors: dict[str, torch.Tensor] = {}
    slots = training["optimizer"]["state"]
    for i, (name, key) in enumerate(zip(lora_names, diffusers_keys(lora_names), strict=True)):
        tensors[key] = training["lora"][name].float().contiguous()
        if i in slots:
            tensors[f"optimizer.{key}.exp_avg"] = slots[i]["exp_avg"].float().cpu().contiguous()
            tensors[f"optimizer.{key}.exp_avg_sq"] = slots[i]["exp_avg_sq"].float().cpu().contiguous()
    steps = {float(s["step"]) for s in slots.values()}
    if len(steps) > 1:
        raise ValueError(f"AdamW's step counts differ between parameters: {sorted(steps)}")
    tensors["optimizer.step"] = torch.tensor([steps.pop() if steps else 0.0], dtype=torch.float32)
    return tensors | {key: t.contiguous() for key, t in training.get("extra", {}).items()}


def encode_generator(state: torch.Tensor) -> str:
    return base64.b64encode(state.numpy().tobytes()).decode("ascii")


def decode_generator(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)


def rng_state(training: dict[str, Any]) -> dict[str, Any]:
    """The generator (rank 0's) and loss scaler; a data-parallel job adds every rank's generator in rank order."""
    state = {"generator": encode_generator(training["generator"]), "gradScaler": training["scaler"]}
    ranks = training.get("rank_generators") or []
    if len(ranks) > 1:
        state |= {"worldSize": len(ranks), "rankGenerators": [encode_generator(g) for g in ranks]}
    return state


def save_checkpoint(
    run_dir: Path, state: CheckpointState, lora_names: list[str], training: dict[str, Any], limit: int
) -> Path:
    """Writes checkpoint_<step> atomically, prunes to the newest `limit`; returns its path. NonFiniteTensor names
    the first tensor holding NaN or Inf (nothing is written)."""
    path = run_dir / checkpoint_dir(state.step)
    tensors = checkpoint_tensors(lora_names, training)
    # A diverged step can leave finite losses but non-finite weights or optimizer moments: never save those.
    broken = next((key for key, t in tensors.items() if not bool(torch.isfinite(t).all())), None)
    if broken is not None:
        raise NonFiniteTensor(broken)
    saved = {
        "step": state.step,
        "epoch": max(0, state.step - 1),
        "rngState": rng_state(training),
        "runId": state.run_id,
        "seq": state.seq,
        "engine": ENGINE,
    }

    def fill(folder: Path) -> None:
        write_file_atomic(folder / CHECKPOINT_TENSORS_FILE, save(tensors, metadata={"format": "pt"}))
        write_file_atomic(folder / CHECKPOINT_STATE_FILE, (json.dumps(saved, indent=2) + "\n").encode("utf-8"))

    write_dir_atomic(path, fill)
    prune_checkpoints(run_dir, limit)
    return path


def load_checkpoint(
    path: Path, lora_names: list[str], current: dict[str, Any], extra_prefixes: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The training state (for LoraTrainer.restore) of a checkpoint; `current` is the job's own training_state(),
    whose optimizer hyper-parameters are kept. Tensors under `extra_prefixes` go to `extra` for the job to check;
    every other missing, unexpected or mis-shaped tensor is named."""
    state = read_checkpoint_state(path)
    tensors = load_file(path / CHECKPOINT_TENSORS_FILE)
    keys = diffusers_keys(lora_names)
    expected: dict[str, torch.Size] = {"optimizer.step": torch.Size([1])}
    for name, key in zip(lora_names, keys, strict=True):
        shape = current["lora"][name].shape
        expected |= {key: shape, f"optimizer.{key}.exp_avg": shape, f"optimizer.{key}.exp_avg_sq": shape}
    extra = {k: t for k, t in tensors.items() if k.startswith(extra_prefixes)}
    problems = [f"missing {k}" for k in expected if k not in tensors]
    problems += [f"unexpected {k}" for k in tensors if k not in expected and k not in extra]
    problems += [
        f"{k} is {list(tensors[k].shape)}, the job's {list(s)}"
        for k, s in expected.items()
        if k in tensors and tensors[k].shape != s
    ]
    if problems:
        raise ValueError(f"{path / CHECKPOINT_TENSORS_FILE}: " + "; ".join(problems))
    step = tensors["optimizer.step"][0].clone()
    optimizer = {
        "state": {
            i: {
                "step": step.clone(),
                "exp_avg": tensors[f"optimizer.{k}.exp_avg"],
                "exp_avg_sq": tensors[f"optimizer.{k}.exp_avg_sq"],
            }
            for i, k in enumerate(keys)
        },
        "param_groups": current["optimizer"]["param_groups"],
    }
    rng = state["rngState"]
    return {
        "step": state["step"],
        "seq": state["seq"],
        "training": {
            "lora": {name: tensors[key] for name, key in zip(lora_names, keys, strict=True)},
            "optimizer": optimizer,
            "scaler": rng["gradScaler"],
            "generator": decode_generator(rng["generator"]),
            "rank_generators": [decode_generator(g) for g in rng.get("rankGenerators", [rng["generator"]])],
            "extra": extra,
        },
    }


def export_lora(run_dir: Path, lora_names: list[str], lora: dict[str, torch.Tensor], config: AlignPropConfig) -> Path:
    """Rewrites `pytorch_lora_weights.safetensors` with diffusers' save_lora_weights (atomically: written in a temp
    folder, then renamed into place), alpha/r folded into the up weights."""
    scale = config.lora_alpha / config.lora_rank
    layers = {}
    for name, key in zip(lora_names, diffusers_keys(lora_names), strict=True):
        weight = lora[name].float()
        layers[key.removeprefix("unet.")] = weight * scale if key.endswith(".lora.up.weight") else weight
    metadata = {
        "r": config.lora_rank,
        "lora_alpha": config.lora_rank,
        "target_modules": list(config.lora_target_modules),
    }
    target = run_dir / LORA_WEIGHTS_FILE
    with tempfile.TemporaryDirectory(dir=run_dir, prefix=".lora-") as temp:
        StableDiffusionPipeline.save_lora_weights(
            temp, unet_lora_layers=layers, weight_name=LORA_WEIGHTS_FILE, unet_lora_adapter_metadata=metadata
        )
        written = Path(temp) / LORA_WEIGHTS_FILE
        fsync_file(written)
        written.replace(target)
    fsync_dir(run_dir)
    return target
