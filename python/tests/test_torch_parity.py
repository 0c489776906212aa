"""Cross-engine: AlignProp's first-step loss on tiny-shapes is the TF.js engine's for the same draws (prompts, x_T,
the chain's noise), within 1e-4 relative, in float32 on the CPU. At their init (B = 0) the LoRA adapters change
nothing, so the loss is the guided chain's, decoded and scored: on the TF.js side by test/helpers/tfjs-first-loss.ts.
With adapters that moved (the run's exported LoRA file given to both) and kl_coeff > 0, the loss and the KL term of
the kept steps agree too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from torch_fixtures import CPU, cpu_config, perturb_lora_b, tiny_shapes

from alignprop_torch.alignprop import AlignProp, MicroBatch, StepResult
from alignprop_torch.build import build_alignprop
from alignprop_torch.run_dir_checkpoint import export_lora

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "dist" / "test" / "helpers" / "tfjs-first-loss.js"


def first_step(job: AlignProp) -> tuple[MicroBatch, StepResult]:
    """The draws of the job's first micro-batch, and its first step (which draws the same again)."""
    state = job.generator.get_state()
    draws = job.draw()
    job.generator.set_state(state)
    return draws, job.step()


def tfjs_first_loss(job: AlignProp, draws: MicroBatch, **extra) -> dict:
    """What test/helpers/tfjs-first-loss.ts computes for the same draws: rewards, loss (and kl when asked)."""
    config = job.config
    request = {
        "model": str(REPO / "models" / "tiny-shapes"),
        "reward": config.reward,
        "guidance": config.sample_guidance_scale,
        "eta": config.sample_eta,
        "negative_prompt": config.negative_prompts,
        "steps": config.sample_num_steps,
        "prompts": draws.prompts,
        "shape": list(draws.x_t.shape),
        "x_t": draws.x_t.flatten().tolist(),
        "noise": [z.flatten().tolist() for z in draws.noise],
        **extra,
    }
    assert HELPER.is_file(), "build the TS side first (npm run build)"
    result = subprocess.run(["node", str(HELPER)], input=json.dumps(request), capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("eta", [1.0, 0.0])
def test_the_first_step_loss_equals_the_tfjs_engines_for_the_same_draws(eta: float):
    config = cpu_config(train_batch_size=2, sample_eta=eta, reward="tiny-aesthetic", negative_prompts="a white square")
    job = build_alignprop(config, CPU, components=tiny_shapes(lora=False))
    draws, torch_loss = first_step(job)
    tfjs = tfjs_first_loss(job, draws)
    print(f"eta={eta} first-step loss: torch {torch_loss.loss:.8f}, tfjs {tfjs['loss']:.8f}")
    assert abs(torch_loss.loss - tfjs["loss"]) <= 1e-4 * abs(tfjs["loss"])
    assert torch_loss.rewards == pytest.approx(tfjs["rewards"], rel=1e-4)


def test_with_a_moved_lora_and_kl_coeff_the_loss_and_kl_equal_the_tfjs_engines(tmp_path: Path):
    config = cpu_config(reward="tiny-aesthetic", kl_coeff=0.5)
    job = build_alignprop(config, CPU, components=tiny_shapes(lora=False))
    perturb_lora_b(job.c, scale=0.3)
    lora = export_lora(tmp_path, job.lora_names, job.training_state()["lora"], config)
    draws, torch_loss = first_step(job)
    tfjs = tfjs_first_loss(job, draws, lora=str(lora), keep=draws.keep, kl_coeff=config.kl_coeff)
    kl = torch_loss.scalars["kl"]
    print(f"kl: torch {kl:.8f}, tfjs {tfjs['kl']:.8f}; loss: torch {torch_loss.loss:.8f}, tfjs {tfjs['loss']:.8f}")
    assert kl > 0.01
    assert kl == pytest.approx(tfjs["kl"], rel=1e-3)
    assert torch_loss.loss == pytest.approx(tfjs["loss"], rel=1e-4)
