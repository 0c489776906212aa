"""Cross-engine: AlignProp's first-step loss on tiny-shapes is the TF.js engine's for the same draws (prompts, x_T,
the chain's noise), within 1e-4 relative, in float32 on the CPU. At their init (B = 0) the LoRA adapters change
nothing, so the loss is the guided chain's, decoded and scored: on the TF.js side by test/helpers/tfjs-first-loss.ts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from torch_fixtures import CPU, cpu_config, tiny_shapes

from alignprop_torch.build import build_alignprop

REPO = Path(__file__).resolve().parents[2]
HELPER = REPO / "dist" / "test" / "helpers" / "tfjs-first-loss.js"


@pytest.mark.parametrize("eta", [1.0, 0.0])
def test_the_first_step_loss_equals_the_tfjs_engines_for_the_same_draws(eta: float):
    config = cpu_config(train_batch_size=2, sample_eta=eta, reward="tiny-aesthetic", negative_prompts="a white square")
    job = build_alignprop(config, CPU, components=tiny_shapes(lora=False))
    state = job.generator.get_state()
    draws = job.draw()
    job.generator.set_state(state)  # the step draws the same again
    torch_loss = job.step()
    request = {
        "model": str(REPO / "models" / "tiny-shapes"),
        "reward": config.reward,
        "guidance": config.sample_guidance_scale,
        "eta": eta,
        "negative_prompt": config.negative_prompts,
        "steps": config.sample_num_steps,
        "prompts": draws.prompts,
        "shape": list(draws.x_t.shape),
        "x_t": draws.x_t.flatten().tolist(),
        "noise": [z.flatten().tolist() for z in draws.noise],
    }
    assert HELPER.is_file(), "build the TS side first (npm run build)"
    result = subprocess.run(["node", str(HELPER)], input=json.dumps(request), capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    tfjs = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"eta={eta} first-step loss: torch {torch_loss.loss:.8f}, tfjs {tfjs['loss']:.8f}")
    assert abs(torch_loss.loss - tfjs["loss"]) <= 1e-4 * abs(tfjs["loss"])
    assert torch_loss.rewards == pytest.approx(tfjs["rewards"], rel=1e-4)
