"""AlignProp's optimizer step on tiny-shapes: it raises the reward, continues exactly from its saved state, clips and
accumulates as TRL does, and reads its settings from the config the TS CLI resolves."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import torch
from torch_fixtures import CPU, cpu_config, lora_params, tiny_shapes

from alignprop_torch.alignprop import AlignProp
from alignprop_torch.build import build_alignprop
from alignprop_torch.config import AlignPropConfig
from alignprop_torch.pipeline import decode_latents
from alignprop_torch.precision import Precision
from alignprop_torch.prompts import shapes
from alignprop_torch.rewards import Reward, resolve_reward
from alignprop_torch.rewards.builtin import brightness
from alignprop_torch.sampler import Chain, sample_chain

REPO = Path(__file__).resolve().parents[2]


def job(config: AlignPropConfig, reward: Reward = brightness) -> AlignProp:
    return AlignProp(tiny_shapes(), config, reward, shapes, Precision.for_device(CPU, "no", True))


def mean_reward(j: AlignProp, reward: Reward, n: int = 16) -> float:
    """The reward of n fixed samples (own generator, no gradient): the same prompts and noise before and after."""
    c, steps = j.c, j.config.sample_num_steps
    generator = torch.Generator().manual_seed(123)
    prompts = [shapes(generator)[0] for _ in range(n)]
    c.scheduler.set_timesteps(steps)
    shape = (n, c.unet.config.in_channels, *j.latent_size)
    x_t = torch.randn(shape, generator=generator)
    noise = [torch.randn(shape, generator=generator) for _ in range(steps)]
    chain = Chain(c.unet, c.scheduler, j.context(prompts), j.config.sample_guidance_scale, 1.0, noise, False)
    with torch.no_grad():
        images = decode_latents(c.vae, sample_chain(chain, [False] * steps, x_t))
        return float(reward.score(images, prompts, [{}] * n)[0].mean())


def test_thirty_steps_raise_the_tiny_aesthetic_reward_of_fixed_samples():
    reward = resolve_reward("tiny-aesthetic")
    config = cpu_config(sample_num_steps=6, truncated_backprop_timestep=4, train_batch_size=4, train_learning_rate=5e-3)
    j = job(config, reward)
    curve = [mean_reward(j, reward)]
    for i in range(30):
        j.step()
        if i % 10 == 9:
            curve.append(mean_reward(j, reward))
    print("tiny-aesthetic of 16 fixed samples every 10 steps:", [round(r, 4) for r in curve])
    assert curve[-1] > curve[0] + 0.05, curve


def test_a_restored_training_state_repeats_the_next_step_exactly():
    j = job(cpu_config(train_batch_size=2, truncated_backprop_rand=True, truncated_rand_backprop_minmax=(1, 4)))
    j.step()
    saved = j.training_state()
    first = j.step(keep_images=True)
    weights = [p.detach().clone() for p in j.params]  # after an update that used the saved AdamW moments
    j.restore(saved)
    again = j.step(keep_images=True)
    assert (again.loss, again.rewards, again.grad_norm) == (first.loss, first.rewards, first.grad_norm)
    assert torch.equal(again.images.images, first.images.images)
    assert all(torch.equal(a, p) for a, p in zip(weights, j.params, strict=True))


def test_the_gradient_is_clipped_to_train_max_grad_norm_and_its_norm_before_clipping_reported():
    j = job(cpu_config(train_max_grad_norm=1e-4, truncated_backprop_timestep=0))
    result = j.step()
    clipped = torch.stack([p.grad.norm() for p in j.params]).norm()
    assert result.grad_norm > 1e-4
    torch.testing.assert_close(clipped, torch.tensor(1e-4 * result.grad_norm / (result.grad_norm + 1e-6)))


def test_accumulating_two_micro_batches_averages_their_gradients():
    settings = dict(train_max_grad_norm=1e9, train_learning_rate=1e-12, truncated_backprop_timestep=1)
    accumulated = job(cpu_config(train_gradient_accumulation_steps=2, **settings))
    both = accumulated.step()
    grads = [p.grad.clone() for p in accumulated.params]
    single = job(cpu_config(**settings))  # the same generator: its two steps draw what the two micro-batches drew
    first = single.step()
    g1 = [p.grad.clone() for p in single.params]
    second = single.step()
    g2 = [p.grad.clone() for p in single.params]
    assert both.rewards == first.rewards + second.rewards
    assert abs(both.loss - (first.loss + second.loss) / 2) < 1e-6
    for g, a, b in zip(grads, g1, g2, strict=True):
        torch.testing.assert_close(g, (a + b) / 2, rtol=1e-4, atol=1e-10)


def test_adamw_takes_trls_config_fields():
    config = cpu_config(
        train_learning_rate=3e-4,
        train_adam_beta1=0.8,
        train_adam_beta2=0.95,
        train_adam_weight_decay=0.1,
        train_adam_epsilon=1e-6,
    )
    group = job(config).optimizer.param_groups[0]
    assert isinstance(job(config).optimizer, torch.optim.AdamW)
    assert (group["lr"], group["betas"], group["weight_decay"], group["eps"]) == (3e-4, (0.8, 0.95), 0.1, 1e-6)
    assert len(group["params"]) == len(lora_params(job(config).c))


def test_the_loss_forms_follow_the_config():
    rewards = torch.tensor([0.25, 0.75])
    losses = {
        loss: float(job(cpu_config(loss=loss, reward_target=1.0)).loss_from(rewards))
        for loss in ("negative_reward", "trl", "target")
    }
    assert losses == {"negative_reward": -0.5, "trl": 9.5, "target": 0.5}


def test_the_config_defaults_and_field_names_are_the_ts_schemas(tmp_path: Path):
    script = (
        "import('./dist/src/config/schema.js').then((m) => console.log(JSON.stringify("
        "{ fields: Object.keys(m.RunConfigSchema.shape), defaults: m.DEFAULT_RUN_CONFIG })))"
    )
    result = subprocess.run(["node", "-e", script], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, "build the TS side first (npm run build): " + result.stderr
    schema = json.loads(result.stdout)
    assert {f.name for f in dataclasses.fields(AlignPropConfig)} - set(schema["fields"]) == set()
    resolved = schema["defaults"]
    (tmp_path / "config.json").write_text(json.dumps(resolved))
    assert AlignPropConfig.from_json(tmp_path / "config.json") == AlignPropConfig()


@pytest.mark.parametrize("mixed", ["bf16", "fp16"])
def test_mixed_precision_trains_float32_lora_over_half_precision_frozen_weights(mixed: str):
    precision = Precision(CPU, mixed)  # what a GPU gets; CPU autocast runs the same code
    c = tiny_shapes(precision.weight_dtype)
    j = AlignProp(c, cpu_config(mixed_precision=mixed, train_batch_size=2), brightness, shapes, precision)
    before = [p.detach().clone() for p in j.params]
    result = j.step()
    assert {p.dtype for p in c.unet.parameters() if not p.requires_grad} == {precision.weight_dtype}
    assert {p.dtype for p in j.params} == {p.grad.dtype for p in j.params} == {torch.float32}
    assert torch.isfinite(torch.tensor([result.loss, result.grad_norm])).all() and result.grad_norm > 0
    assert any(not torch.equal(a, p) for a, p in zip(before, j.params, strict=True))


def test_a_config_naming_tiny_shapes_builds_a_job_with_its_reward_and_prompt_source():
    j = build_alignprop(cpu_config(train_batch_size=2), CPU, components=tiny_shapes(lora=False))
    result = j.step(keep_images=True)
    assert j.reward.name == "tiny-aesthetic"
    assert all(p.startswith("a ") and p.split()[-1] in ("circle", "square", "triangle") for p in result.images.prompts)
    assert result.images.images.shape == (2, 3, 32, 32)
