"""Cross-engine: AlignProp's first step on tiny-shapes is the TF.js engine's for the same draws (prompts, kept steps,
x_T, the chain's noise) and the same LoRA weights, in float32 on the CPU: the loss and the rewards within 1e-4
relative, and the LoRA gradient within 1e-4 relative per tensor (‖g_tfjs − g_torch‖ ≤ 1e-4·‖g_torch‖), the tensors
matched by their diffusers keys (`unet.<module path>.lora.down.weight` / `.lora.up.weight`).

The LoRA weights are torch's, handed to the TF.js job through its checkpoint path (test/helpers/tfjs-first-step.ts):
- "init": as peft draws them (A gaussian, B = 0), the true first step. Only B's gradient is non-zero then
  (∂L/∂A = Bᵀ·∂L/∂y = 0), so this compares ∂L/∂B and that both engines give A exactly zero.
- "perturbed": B set to small non-zero values as well, so ∂L/∂A is compared too, and the adapters change the loss.

1e-4 is close to what float32 allows here. Against torch's own gradient in float64 (same draws), each engine's float32
gradient is off by up to 1.4e-5 (torch) / 2.6e-5 (TF.js) per tensor for TRL's guidance 5 with η = 1 and B = 0, and
by 7e-6 / 3.3e-5 at guidance 2 with η = 0 and B perturbed, so the engines agree within 3e-5 in both cases checked.
Guidance 5 with η = 0, or with B perturbed, amplifies the rounding of both engines alike (w·ε_c − (w − 1)·ε_u
cancels): each is then 6e-5 to 2e-4 from float64, and their difference crosses 1e-4 without either being wrong.

With kl_coeff > 0 and adapters that moved, the loss (kl term included) and the KL term of the kept steps agree too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import torch
from torch_fixtures import CPU, cpu_config, perturb_lora_b, tiny_shapes

from alignprop_torch.alignprop import AlignProp, MicroBatch, MicroResult
from alignprop_torch.build import build_alignprop
from alignprop_torch.run_dir_checkpoint import diffusers_keys

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "dist" / "test" / "helpers" / "tfjs-first-step.js"
#: The run-config fields the TF.js job needs for this check; the kept steps and the noise are handed over as drawn.
SHARED_FIELDS = (
    "model",
    "seed",
    "mixed_precision",
    "reward",
    "negative_prompts",
    "loss",
    "sample_num_steps",
    "sample_eta",
    "sample_guidance_scale",
    "train_batch_size",
    "gradient_checkpointing",
    "kl_coeff",
    "lora_rank",
    "lora_alpha",
    "lora_target_modules",
)
RELATIVE = 1e-4


def torch_and_tfjs_first_micro_batch(job: AlignProp, backend: str = "cpu") -> tuple[MicroBatch, MicroResult, dict]:
    """The job's first micro-batch's draws, torch's loss and LoRA gradient for them (into the parameters' `.grad`),
    and what test/helpers/tfjs-first-step.ts computes for the same config, LoRA weights and draws on the TF.js
    `backend` ("wasm-ort": the model calls as traced ONNX Runtime graphs, as training runs them)."""
    config = job.config
    keys = diffusers_keys(job.lora_names)
    draws = job.draw()
    job.optimizer.zero_grad(set_to_none=False)
    torch_step = job.micro_backward(draws)
    request = {
        "backend": backend,
        "config": {field: getattr(config, field) for field in SHARED_FIELDS}
        | {"lora_target_modules": list(config.lora_target_modules)},
        "lora": {
            key: {"shape": list(p.shape), "data": p.detach().flatten().tolist()}
            for key, p in zip(keys, job.params, strict=True)
        },
        "draws": {
            "prompts": draws.prompts,
            "metadata": draws.metadata,
            "keep": draws.keep,
            "shape": list(draws.x_t.shape),
            "x_t": draws.x_t.flatten().tolist(),
            "noise": [z.flatten().tolist() for z in draws.noise],
        },
    }
    assert HELPER.is_file(), "build the TS side first (npm run build)"
    result = subprocess.run(["node", str(HELPER)], input=json.dumps(request), capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return draws, torch_step, json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("eta", "guidance", "lora", "backend"),
    [(1.0, 5.0, "init", "cpu"), (0.0, 2.0, "perturbed", "cpu"), (0.0, 2.0, "perturbed", "wasm-ort")],
)
def test_the_first_step_loss_and_lora_gradient_equal_the_tfjs_engines_for_the_same_draws(
    eta: float, guidance: float, lora: str, backend: str
):
    config = cpu_config(
        train_batch_size=2,
        sample_eta=eta,
        sample_guidance_scale=guidance,
        reward="tiny-aesthetic",
        negative_prompts="a white square",
    )
    job = build_alignprop(config, CPU, components=tiny_shapes(lora=False))
    if lora == "perturbed":
        perturb_lora_b(job.c)
    draws, torch_step, tfjs = torch_and_tfjs_first_micro_batch(job, backend)
    keys = diffusers_keys(job.lora_names)
    torch_grads = {key: p.grad for key, p in zip(keys, job.params, strict=True)}

    print(f"eta={eta} guidance={guidance} lora={lora} backend={backend} kept={draws.keep}")
    print(f"  first-step loss: torch {torch_step.loss:.8f}, tfjs {tfjs['loss']:.8f}")
    assert abs(torch_step.loss - tfjs["loss"]) <= RELATIVE * abs(tfjs["loss"])
    assert torch_step.rewards == pytest.approx(tfjs["rewards"], rel=RELATIVE)
    assert set(tfjs["grads"]) == set(torch_grads)
    worst, nonzero = 0.0, 0
    for key, g in torch_grads.items():
        theirs = torch.tensor(tfjs["grads"][key], dtype=torch.float32).reshape(g.shape)
        difference, norm = float((theirs - g).norm()), float(g.norm())
        assert difference <= RELATIVE * norm, f"{key}: ‖Δ‖={difference:.3e}, ‖g_torch‖={norm:.3e}"
        if norm > 0:
            nonzero += 1
            worst = max(worst, difference / norm)
    print(f"  LoRA gradient: {nonzero}/{len(torch_grads)} tensors non-zero, worst ‖Δ‖/‖g‖ = {worst:.2e}")
    expected_nonzero = len(keys) if lora == "perturbed" else sum(key.endswith(".lora.up.weight") for key in keys)
    assert nonzero == expected_nonzero


def test_with_a_moved_lora_and_kl_coeff_the_loss_and_kl_equal_the_tfjs_engines():
    config = cpu_config(reward="tiny-aesthetic", kl_coeff=0.5)
    job = build_alignprop(config, CPU, components=tiny_shapes(lora=False))
    perturb_lora_b(job.c, scale=0.3)
    _, torch_step, tfjs = torch_and_tfjs_first_micro_batch(job)
    print(f"kl: torch {torch_step.kl:.8f}, tfjs {tfjs['kl']:.8f}")
    print(f"loss: torch {torch_step.loss:.8f}, tfjs {tfjs['loss']:.8f}")
    assert torch_step.kl > 0.01
    assert torch_step.kl == pytest.approx(tfjs["kl"], rel=1e-3)
    assert torch_step.loss == pytest.approx(tfjs["loss"], rel=RELATIVE)
