"""DDPO on the torch engine: the DDIM step's log-probability against torch.distributions.Normal on diffusers' own
step (the oracle's computation), TRL's per-prompt stat tracker on a scripted sequence, the PPO-clip loss and its
diagnostics on known ratios, and the job: recomputed log-probs match the sampled ones before any update, and a job
restored from its checkpoint (stat tracker included) repeats the next epoch exactly."""

from __future__ import annotations

import dataclasses
import math
import statistics
from pathlib import Path

import pytest
import torch
from diffusers import DDIMScheduler
from torch_fixtures import CPU, tiny_shapes

from alignprop_torch.config import DDPOConfig
from alignprop_torch.ddim_log_prob import ddim_step_with_log_prob, ddpo_scheduler, log_prob_at
from alignprop_torch.ddpo import DDPO
from alignprop_torch.ddpo_advantages import STAT_TRACKER_PREFIX, PerPromptStatTracker, batch_advantages
from alignprop_torch.ddpo_trajectory import sample_trajectory, step_log_prob
from alignprop_torch.pipeline import TINY_SHAPES
from alignprop_torch.ppo import PpoClip, ppo_clip_loss, ppo_stats
from alignprop_torch.precision import Precision
from alignprop_torch.prompts import shapes
from alignprop_torch.rewards import resolve_reward
from alignprop_torch.run_dir_checkpoint import CheckpointState, load_checkpoint, save_checkpoint
from oracle.ddim import log_prob as oracle_log_prob
from oracle.ddim import scheduler as float64_scheduler
from oracle.ddim import step as oracle_step

# --- the DDIM step's log-probability ---------------------------------------------------------------------------------


@pytest.mark.parametrize("eta", [1.0, 0.3])
def test_a_ddim_steps_log_prob_is_the_normal_density_of_diffusers_own_step_per_sample_timestep(eta: float):
    config = DDIMScheduler.load_config(TINY_SHAPES, subfolder="scheduler")
    keys = ("beta_start", "beta_end", "beta_schedule", "steps_offset", "set_alpha_to_one", "timestep_spacing")
    scheduler = float64_scheduler(**{k: config[k] for k in keys})  # diffusers' own, in float64
    scheduler.set_timesteps(10)
    generator = torch.Generator().manual_seed(0)
    shape = (4, 4, 8, 8)
    eps = torch.randn(shape, generator=generator, dtype=torch.float64).requires_grad_()
    x = torch.randn(shape, generator=generator, dtype=torch.float64)
    z = torch.randn(shape, generator=generator, dtype=torch.float64)
    timesteps = scheduler.timesteps[[0, 4, 8, 9]]  # 9: the last step, onto ᾱ_0

    oracle = oracle_step(scheduler, eps, timesteps.tolist(), x, eta, z)
    prev = oracle["prev_sample"].detach()  # x_{t-1} is data: only μ_t depends on ε̂
    expected = oracle_log_prob(prev, oracle["mean"], oracle["std"])
    ours = log_prob_at(scheduler, eps, timesteps, x, eta, prev)
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-10)
    # Differentiable in ε̂ through μ_t, as the density is.
    (g_ours,) = torch.autograd.grad(ours.sum(), eps)
    (g_expected,) = torch.autograd.grad(expected.sum(), eps)
    torch.testing.assert_close(g_ours, g_expected, rtol=1e-8, atol=1e-12)

    # Drawing: x_{t-1} is diffusers' step with the same noise, and its log-prob that of the value drawn.
    drawn = ddim_step_with_log_prob(scheduler, eps[:1], timesteps[0], x[:1], eta, variance_noise=z[:1])
    assert torch.equal(drawn.prev_sample, prev[:1])
    torch.testing.assert_close(drawn.log_prob, expected[:1], rtol=1e-10, atol=1e-10)


def test_a_step_log_prob_refuses_eta_zero_and_needs_exactly_one_of_noise_and_prev_sample():
    scheduler = ddpo_scheduler(DDIMScheduler.from_pretrained(TINY_SHAPES, subfolder="scheduler"))
    scheduler.set_timesteps(2)
    x = torch.zeros(1, 4, 2, 2)
    with pytest.raises(ValueError, match="eta=0"):
        ddim_step_with_log_prob(scheduler, x, scheduler.timesteps[0], x, 0.0, prev_sample=x)
    with pytest.raises(ValueError, match="exactly one"):
        ddim_step_with_log_prob(scheduler, x, scheduler.timesteps[0], x, 1.0)


def test_the_ddpo_scheduler_turns_set_alpha_to_one_off_as_trls_clamp_does():
    pipeline = DDIMScheduler(set_alpha_to_one=True)
    assert ddpo_scheduler(pipeline).final_alpha_cumprod == pipeline.alphas_cumprod[0]


# --- advantages ------------------------------------------------------------------------------------------------------


def standardised(r: float, values: list[float], eps: float) -> float:
    return (r - statistics.fmean(values)) / (statistics.pstdev(values) + eps)


def test_batch_advantages_standardise_over_the_whole_batch():
    rewards = [1.0, 2.0, 4.0]
    assert batch_advantages(rewards) == pytest.approx([standardised(r, rewards, 1e-8) for r in rewards], rel=1e-12)


def test_the_stat_tracker_uses_a_prompts_own_last_rewards_once_it_has_min_count_of_them():
    tracker = PerPromptStatTracker(buffer_size=3, min_count=2)
    # a: 2 rewards (own stats); b: 1 (the batch's).
    assert tracker.update(["a", "a", "b"], [1.0, 3.0, 5.0]) == pytest.approx(
        [standardised(1, [1, 3], 1e-6), standardised(3, [1, 3], 1e-6), standardised(5, [1, 3, 5], 1e-6)], rel=1e-12
    )
    # a: [1, 3, 7]; b: [5, 9].
    assert tracker.update(["b", "a"], [9.0, 7.0]) == pytest.approx(
        [standardised(9, [5, 9], 1e-6), standardised(7, [1, 3, 7], 1e-6)], rel=1e-12
    )
    # a keeps its last 3: [3, 7, 2].
    assert tracker.update(["a"], [2.0]) == pytest.approx([standardised(2, [3, 7, 2], 1e-6)], rel=1e-12)
    with pytest.raises(ValueError, match="2 prompts but 1 rewards"):
        tracker.update(["a", "b"], [1.0])


def test_the_stat_trackers_checkpoint_tensors_restore_the_same_buffers():
    tracker = PerPromptStatTracker(buffer_size=3, min_count=2)
    tracker.update(["a red circle", "a", "a"], [0.25, 0.5, 0.125])
    state = tracker.state()
    assert set(state) == {STAT_TRACKER_PREFIX + "a red circle", STAT_TRACKER_PREFIX + "a"}
    restored = PerPromptStatTracker(buffer_size=3, min_count=2)
    restored.restore(state)
    assert restored.update(["a", "a red circle"], [1.0, 2.0]) == tracker.update(["a", "a red circle"], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"shape \[4\].*per_prompt_stat_tracking_buffer_size=3"):
        restored.restore({STAT_TRACKER_PREFIX + "a": torch.zeros(4)})


# --- PPO-clip --------------------------------------------------------------------------------------------------------


def test_the_ppo_clip_loss_and_its_diagnostics_on_known_ratios():
    ratios = torch.tensor([1.0, 1.5, 0.5, 1.00005], dtype=torch.float64)
    old = torch.tensor([-1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    log_prob = (old + ratios.log()).requires_grad_()
    advantages = torch.tensor([1.0, 1.0, -1.0, 2.0], dtype=torch.float64)  # 2 is clipped to 1.5
    clip = PpoClip(clip_range=0.2, adv_clip_max=1.5)
    loss = ppo_clip_loss(log_prob, old, advantages, clip)
    # max(−Aρ, −A·clip(ρ)): −1; max(−1.5, −1.2); max(0.5, 0.8); −1.5·1.00005.
    assert float(loss.detach()) == pytest.approx((-1 - 1.2 + 0.8 - 1.5 * 1.00005) / 4, rel=1e-12)
    (grad,) = torch.autograd.grad(loss, log_prob)  # the clipped terms pass no gradient
    torch.testing.assert_close(grad, torch.tensor([-1 / 4, 0, 0, -1.5 * 1.00005 / 4], dtype=torch.float64))
    stats = ppo_stats(log_prob, old, clip.clip_range)
    assert stats.clip_fraction == 0.5
    assert stats.approx_kl == pytest.approx(0.5 * float((ratios.log() ** 2).mean()), rel=1e-12)


# --- the job ---------------------------------------------------------------------------------------------------------


def ddpo_config(**overrides) -> DDPOConfig:
    """A CPU-sized DDPO config on tiny-shapes: 3 DDIM steps, 2 batches of 2 samples, minibatches of 1."""
    base = dict(mixed_precision="no", sample_num_steps=3, sample_batch_size=2, train_learning_rate=3e-3)
    return DDPOConfig(**{**base, **overrides})


def ddpo_job(config: DDPOConfig) -> DDPO:
    return DDPO(tiny_shapes(), config, resolve_reward("tiny-aesthetic"), shapes, Precision.for_device(CPU, "no", True))


def test_before_any_update_the_recomputed_log_probs_are_the_sampled_ones():
    j = ddpo_job(ddpo_config())
    j.scheduler.set_timesteps(3)
    prompts = ["a red circle", "a blue square"]
    noise = [j.normal(2) for _ in range(3)]
    chain = j.chain(j.context(prompts), j.config.sample_guidance_scale, noise)
    trajectory = sample_trajectory(chain, j.normal(2, j.scheduler.init_noise_sigma))
    at = torch.tensor([2, 0])  # a step per sample, as training draws them
    rows = torch.arange(2)
    recomputed = step_log_prob(
        dataclasses.replace(chain, noise=[]),
        trajectory.latents[rows, at],
        j.scheduler.timesteps[at],
        trajectory.latents[rows, at + 1],
    )
    torch.testing.assert_close(recomputed, trajectory.log_probs[rows, at], rtol=0, atol=1e-5)


def test_an_epoch_reports_trls_scalars_and_updates_once_per_accumulated_minibatches_times_timesteps():
    # 4 samples, minibatches of 1, 2 of 3 timesteps each, 2 minibatches per update: 2 updates per inner epoch.
    j = ddpo_job(ddpo_config(train_timestep_fraction=0.7, train_gradient_accumulation_steps=2, train_clip_range=1e-4))
    before = [p.detach().clone() for p in j.params]
    result = j.step(keep_images=True)
    assert len(result.rewards) == 4 and result.images is not None and len(result.images.prompts) == 2
    assert j.optimizer.state_dict()["state"][0]["step"] == 2
    assert set(result.scalars) == {"approx_kl", "clip_fraction"}
    # The first update's terms see the sampling weights (ratio 1); the second's see moved ones, with ratios past 1e-4.
    assert 0 < result.scalars["clip_fraction"] <= 0.5
    assert result.scalars["approx_kl"] > 0 and math.isfinite(result.loss) and result.grad_norm > 0
    assert any(not torch.equal(a, p) for a, p in zip(before, j.params, strict=True))


def test_a_job_restored_from_its_checkpoint_repeats_the_next_epoch_exactly(tmp_path: Path):
    config = ddpo_config(per_prompt_stat_tracking=True, per_prompt_stat_tracking_min_count=1)
    j = ddpo_job(config)
    j.step()
    path = save_checkpoint(tmp_path, CheckpointState(1, 7, "run"), j.lora_names, j.training_state(), limit=2)
    first = j.step(keep_images=True)

    resumed = ddpo_job(config)
    saved = load_checkpoint(path, resumed.lora_names, resumed.training_state(), resumed.extra_prefixes)
    assert any(key.startswith(STAT_TRACKER_PREFIX) for key in saved["training"]["extra"])
    resumed.restore(saved["training"])
    again = resumed.step(keep_images=True)
    assert (again.loss, again.rewards, again.grad_norm, again.scalars) == (
        first.loss,
        first.rewards,
        first.grad_norm,
        first.scalars,
    )
    assert torch.equal(again.images.images, first.images.images)
    assert all(torch.equal(a, b) for a, b in zip(resumed.params, j.params, strict=True))

    untracked = ddpo_job(ddpo_config())
    with pytest.raises(ValueError, match="per-prompt reward buffers .* per_prompt_stat_tracking is off"):
        untracked.restore(
            load_checkpoint(path, untracked.lora_names, untracked.training_state(), untracked.extra_prefixes)[
                "training"
            ]
        )
