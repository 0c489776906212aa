"""The torch engine's run directory (src/run/README.md's format): a checkpoint written to disk and read back
continues the run exactly; the exported LoRA (diffusers' save_lora_weights, alpha ≠ r) makes diffusers'
`load_lora_weights` reproduce the trained UNet, also when its metadata is ignored; another engine's checkpoint is
refused; pruning counts steps, not names, and clears interrupted saves; events.jsonl is trimmed to a checkpoint's seq
byte for byte under the one torn-line rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from alignprop_cli import load_pipeline
from safetensors import safe_open
from safetensors.torch import load_file
from torch_fixtures import CPU, cpu_config, tiny_shapes

from alignprop_torch.alignprop import AlignProp
from alignprop_torch.lora import add_lora
from alignprop_torch.precision import Precision
from alignprop_torch.prompts import shapes
from alignprop_torch.rewards.builtin import brightness
from alignprop_torch.run_dir import (
    CHECKPOINTS_DIR,
    EVENTS_FILE,
    LORA_WEIGHTS_FILE,
    NonFiniteTensor,
    list_checkpoints,
    prune_checkpoints,
    read_checkpoint_state,
    trim_events_log,
)
from alignprop_torch.run_dir_checkpoint import (
    CheckpointState,
    export_lora,
    load_checkpoint,
    save_checkpoint,
)

RANK, ALPHA = 4, 8.0


def job() -> AlignProp:
    c = tiny_shapes(lora=False)
    config = cpu_config(train_batch_size=2, lora_rank=RANK, lora_alpha=ALPHA, train_learning_rate=0.05)
    add_lora(c.unet, RANK, ALPHA, config.lora_target_modules, config.seed)
    return AlignProp(c, config, brightness, shapes, Precision.for_device(CPU, "no", True))


def test_a_checkpoint_on_disk_continues_the_run_exactly(tmp_path: Path):
    j = job()
    j.step()
    j.step()
    path = save_checkpoint(tmp_path, CheckpointState(step=2, seq=9, run_id="r"), j.lora_names, j.training_state(), 5)
    state = json.loads((path / "state.json").read_text())
    assert (state["step"], state["epoch"], state["seq"], state["runId"], state["engine"]) == (2, 1, 9, "r", "torch")
    with safe_open(str(path / "model.safetensors"), framework="pt") as f:
        keys = set(f.keys())
        assert f.metadata() == {"format": "pt"}
    assert "optimizer.step" in keys
    assert any(k.startswith("unet.") and k.endswith(".to_q.lora.down.weight") for k in keys)
    assert all(k.startswith("optimizer.") or k.startswith("unet.") for k in keys)
    expected = j.step(keep_images=True)

    fresh = job()
    fresh.restore(load_checkpoint(path, fresh.lora_names, fresh.training_state())["training"])
    got = fresh.step(keep_images=True)
    assert (got.loss, got.rewards, got.grad_norm) == (expected.loss, expected.rewards, expected.grad_norm)
    assert all(torch.equal(a, b) for a, b in zip(fresh.params, j.params, strict=True))


def test_a_checkpoint_of_another_engine_or_shape_is_refused_naming_why(tmp_path: Path):
    j = job()
    j.step()
    path = save_checkpoint(tmp_path, CheckpointState(step=1, seq=3, run_id="r"), j.lora_names, j.training_state(), 5)
    other = tmp_path / "tfjs"
    other.mkdir()
    (other / "state.json").write_text(json.dumps({"step": 1, "seq": 3, "epoch": 0, "rngState": 7, "runId": "r"}))
    with pytest.raises(ValueError, match=r'written by the "tfjs" engine; resume it with that engine \(--engine tfjs'):
        read_checkpoint_state(other)
    small = tiny_shapes(lora=False)
    add_lora(small.unet, 2, 2.0, ("to_q",), 0)
    s = AlignProp(small, cpu_config(lora_rank=2), brightness, shapes, Precision.for_device(CPU, "no", True))
    with pytest.raises(ValueError, match=r"unexpected unet\..*to_k\.lora\.down\.weight.*is \[4, \d+\], the job's \[2"):
        load_checkpoint(path, s.lora_names, s.training_state())


def unet_output(unet: torch.nn.Module) -> torch.Tensor:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(1, unet.config.in_channels, unet.config.sample_size, unet.config.sample_size, generator=generator)
    context = torch.randn(1, 4, unet.config.cross_attention_dim, generator=generator)
    with torch.no_grad():
        return unet(x, 500, context).sample


def test_the_exported_lora_loads_in_diffusers_at_the_trained_strength_with_or_without_its_metadata(tmp_path: Path):
    j = job()
    for _ in range(3):
        j.step()
    export_lora(tmp_path, j.lora_names, j.training_state()["lora"], j.config)
    trained = unet_output(j.c.unet)
    with safe_open(str(tmp_path / LORA_WEIGHTS_FILE), framework="pt") as f:
        metadata = json.loads(f.metadata()["lora_adapter_metadata"])
    assert (metadata["unet.r"], metadata["unet.lora_alpha"]) == (RANK, RANK), "alpha/r folded into the up weights"

    pipe = load_pipeline()
    base = unet_output(pipe.unet)
    pipe.load_lora_weights(tmp_path, weight_name=LORA_WEIGHTS_FILE)
    assert (trained - base).abs().max() > 1e-3, "the LoRA moves the output, or the comparison would prove nothing"
    torch.testing.assert_close(unet_output(pipe.unet), trained, rtol=1e-5, atol=1e-5)

    # diffusers before 0.34 ignores lora_adapter_metadata and takes alpha = r: the tensors alone carry the scale.
    bare = load_pipeline()
    bare.load_lora_weights(load_file(tmp_path / LORA_WEIGHTS_FILE))
    torch.testing.assert_close(unet_output(bare.unet), trained, rtol=1e-5, atol=1e-5)


def test_pruning_keeps_the_newest_steps_and_removes_interrupted_saves(tmp_path: Path):
    for name in ("checkpoint_9", "checkpoint_10", "checkpoint_2", ".checkpoint_11.tmp-123", "checkpoint_x"):
        (tmp_path / CHECKPOINTS_DIR / name).mkdir(parents=True)
    assert list_checkpoints(tmp_path) == [10, 9, 2]
    prune_checkpoints(tmp_path, 2)
    assert sorted(p.name for p in (tmp_path / CHECKPOINTS_DIR).iterdir()) == [
        "checkpoint_10",
        "checkpoint_9",
        "checkpoint_x",
    ]


def event(seq: int) -> bytes:
    return json.dumps(
        {"runId": "r", "seq": seq, "metrics": {"step": seq, "loss": -0.5}}, separators=(",", ":")
    ).encode()


def test_trimming_keeps_the_events_up_to_the_checkpoint_byte_for_byte_and_drops_a_torn_last_line(tmp_path: Path):
    lines = [event(s) for s in range(1, 6)]
    (tmp_path / EVENTS_FILE).write_bytes(b"\n".join(lines) + b"\n\n" + event(6)[:-7])
    trim_events_log(tmp_path, 3)
    assert (tmp_path / EVENTS_FILE).read_bytes() == b"".join(line + b"\n" for line in lines[:3])
    assert not (tmp_path / (EVENTS_FILE + ".tmp")).exists()


def test_a_bad_line_before_the_last_is_corruption_naming_the_line(tmp_path: Path):
    (tmp_path / EVENTS_FILE).write_bytes(event(1) + b"\nnot json\n" + event(3) + b"\n")
    with pytest.raises(ValueError, match=r"events\.jsonl:2: not an event"):
        trim_events_log(tmp_path, 3)


def test_a_non_finite_moment_is_named_and_nothing_is_written(tmp_path: Path):
    j = job()
    j.step()
    training = j.training_state()
    training["optimizer"]["state"][1]["exp_avg_sq"][0] = float("inf")
    with pytest.raises(NonFiniteTensor) as raised:
        save_checkpoint(tmp_path, CheckpointState(step=1, seq=3, run_id="r"), j.lora_names, training, 5)
    assert raised.value.key.startswith("optimizer.unet.") and raised.value.key.endswith(".exp_avg_sq")
    assert not (tmp_path / CHECKPOINTS_DIR).exists()
