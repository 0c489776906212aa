"""The KL term (`kl_coeff`) on tiny-shapes: zero at the adapters' init, its gradient pulls the adapted UNet's
predictions towards the base UNet's (finite differences agree), checkpointing gives the same gradient, and the job
reports `kl` and adds kl_coeff · kl to its loss — as the TF.js engine's test/alignprop/kl.test.ts checks there."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch_fixtures import CPU, cpu_config, lora_params, perturb_lora_b, tiny_chain, tiny_shapes

from alignprop_torch.alignprop import AlignProp
from alignprop_torch.build import build_alignprop
from alignprop_torch.precision import Precision
from alignprop_torch.prompts import shapes
from alignprop_torch.rewards.builtin import brightness
from alignprop_torch.sampler import run_chain
from alignprop_torch.trainer.__main__ import TrainingJob


def test_the_kl_term_is_0_at_the_adapters_init_and_leaves_the_chain_unchanged():
    c = tiny_shapes()
    chain, x_t = tiny_chain(c, steps=3)
    keep = [False, True, True]
    plain = run_chain(chain, keep, x_t)
    with_kl = run_chain(dataclasses.replace(chain, kl=True), keep, x_t)
    assert plain.kl is None
    assert with_kl.kl.item() == 0.0
    assert torch.equal(with_kl.x0, plain.x0)


def test_a_step_against_the_kl_gradient_lowers_kl_at_the_rate_finite_differences_measure():
    """One kept step from a fixed x_T: kl(θ + h·d) along the unit gradient d = g/|g| changes at |g|."""
    c = tiny_shapes()
    perturb_lora_b(c, scale=0.3)
    chain, x_t = tiny_chain(c, steps=1)
    chain = dataclasses.replace(chain, kl=True)
    params = lora_params(c)
    kl = run_chain(chain, [True], x_t).kl
    grads = torch.autograd.grad(kl, params)
    g_norm = torch.sqrt(sum((g.double() ** 2).sum() for g in grads)).item()
    original = [p.detach().clone() for p in params]

    def kl_at(h: float) -> float:
        with torch.no_grad():
            for p, o, g in zip(params, original, grads, strict=True):
                p.copy_(o + g * (h / g_norm))
            return run_chain(chain, [True], x_t).kl.item()

    h = 1e-2
    up, down = kl_at(h), kl_at(-h)
    numeric = (up - down) / (2 * h)
    print(f"kl {kl.item():.4e}: |g| {g_norm:.4e}, finite difference {numeric:.4e}")
    assert kl.item() > 0
    assert down < kl.item() < up
    assert numeric == pytest.approx(g_norm, rel=2e-2)


def test_through_three_kept_steps_checkpointing_gives_the_same_kl_gradient_and_descending_it_lowers_kl():
    c = tiny_shapes()
    perturb_lora_b(c, scale=0.3)
    chain, x_t = tiny_chain(c, steps=3, eta=1.0)
    keep = [True, True, True]
    params = lora_params(c)
    results = {}
    for checkpointing in (False, True):
        kl = run_chain(dataclasses.replace(chain, kl=True, checkpointing=checkpointing), keep, x_t).kl
        results[checkpointing] = (kl.item(), torch.autograd.grad(kl, params))
    (k0, plain), (k0_checkpointed, checkpointed) = results[False], results[True]
    assert k0_checkpointed == pytest.approx(k0, rel=1e-6)
    for a, b in zip(checkpointed, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
    norm = torch.sqrt(sum((g**2).sum() for g in plain))
    with torch.no_grad():
        for p, g in zip(params, plain, strict=True):
            p -= g * (1e-2 / norm)
    k1 = run_chain(dataclasses.replace(chain, kl=True), keep, x_t).kl.item()
    print(f"kl {k0:.4e} → {k1:.4e} after a 1e-2 step against the gradient")
    assert k1 < k0


def test_a_job_with_kl_coeff_reports_kl_and_adds_kl_coeff_times_kl_to_its_loss():
    def job(kl_coeff: float) -> AlignProp:
        config = cpu_config(kl_coeff=kl_coeff, truncated_backprop_timestep=1)
        return AlignProp(tiny_shapes(), config, brightness, shapes, Precision.for_device(CPU, "no", True))

    with_kl, without = job(0.5), job(0.0)
    a1, b1 = with_kl.step(), without.step()
    assert a1.scalars == {"kl": 0.0}
    assert b1.scalars == {}
    assert a1.loss == b1.loss
    # The first step's KL gradient is 0 (B = 0), so both jobs hold the same weights for the second.
    a2, b2 = with_kl.step(), without.step()
    assert a2.rewards == b2.rewards
    assert a2.scalars["kl"] > 0
    assert a2.loss == pytest.approx(b2.loss + 0.5 * a2.scalars["kl"], abs=1e-6)


def test_the_trainer_publishes_kl_among_the_step_metrics_scalars():
    job = TrainingJob(build_alignprop(cpu_config(kl_coeff=0.5), CPU, components=tiny_shapes(lora=False)))
    assert set(job.step(keep_images=False).extra) == {"kl"}
