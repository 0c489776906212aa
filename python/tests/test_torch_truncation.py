"""Truncated backpropagation keeps exactly the intended DDIM steps, in each of the three modes."""

from __future__ import annotations

import torch
from torch_fixtures import lora_params, perturb_lora_b, tiny_chain, tiny_shapes

from alignprop_torch.pipeline import decode_latents
from alignprop_torch.rewards.builtin import brightness
from alignprop_torch.sampler import sample_chain
from alignprop_torch.truncation import Truncation, kept_steps

N = 10


def draws(t: Truncation, count: int, seed: int = 0) -> list[list[bool]]:
    generator = torch.Generator().manual_seed(seed)
    return [kept_steps(N, t, generator) for _ in range(count)]


def test_fixed_truncation_keeps_the_steps_from_the_timestep_on():
    t = Truncation(rand=False, timestep=7, minmax=(0, N), per_step=False)
    assert draws(t, 3) == [[False] * 7 + [True] * 3] * 3


def test_random_truncation_draws_one_cut_per_chain_and_keeps_the_suffix_after_it():
    t = Truncation(rand=True, timestep=0, minmax=(3, 8), per_step=False)
    cuts = []
    for keep in draws(t, 400):
        cut = keep.index(True) if True in keep else N
        assert keep == [i >= cut for i in range(N)]
        cuts.append(cut)
    assert set(cuts) == set(range(3, 9))


def test_per_step_truncation_keeps_step_i_with_trls_probability():
    t = Truncation(rand=True, timestep=0, minmax=(2, 6), per_step=True)
    kept = torch.tensor(draws(t, 4000), dtype=torch.float64).mean(0)
    expected = torch.tensor([min(max((i - 2 + 1) / 5, 0), 1) for i in range(N)], dtype=torch.float64)
    assert torch.allclose(kept, expected, atol=0.03), kept
    assert any(keep != sorted(keep) for keep in draws(t, 50)), "per-step draws should not all be suffixes"


def test_the_generator_state_round_trips_and_repeats_the_draws():
    t = Truncation(rand=True, timestep=0, minmax=(0, N), per_step=True)
    generator = torch.Generator().manual_seed(5)
    kept_steps(N, t, generator)
    state = generator.get_state()
    first = [kept_steps(N, t, generator) for _ in range(5)]
    generator.set_state(state)
    assert [kept_steps(N, t, generator) for _ in range(5)] == first


def record_unet_calls(c) -> list[bool]:
    """Whether each UNet call's output carries gradient, in call order."""
    calls: list[bool] = []
    c.unet.register_forward_hook(lambda module, args, output: calls.append(output.sample.requires_grad))
    return calls


def test_only_the_kept_steps_run_the_unet_with_gradient():
    c = tiny_shapes()
    calls = record_unet_calls(c)
    for keep in ([False, False, True, True], [False, True, False, True], [True, False, False, False]):
        calls.clear()
        chain, x_t = tiny_chain(c, steps=4, eta=1.0)
        sample_chain(chain, keep, x_t)
        assert calls == keep


def lora_gradient(c, keep: list[bool]) -> list[torch.Tensor]:
    chain, x_t = tiny_chain(c, steps=4, eta=1.0)
    params = lora_params(c)
    loss = -brightness.score(decode_latents(c.vae, sample_chain(chain, keep, x_t)), [], [])[0].mean()
    if not loss.requires_grad:
        return [torch.zeros_like(p) for p in params]
    return list(torch.autograd.grad(loss, params, allow_unused=True, materialize_grads=True))


def test_the_lora_gradient_is_zero_with_no_kept_step_and_differs_with_each_kept_set():
    c = tiny_shapes()
    perturb_lora_b(c)
    norm = lambda grads: float(torch.stack([g.norm() for g in grads]).norm())  # noqa: E731
    assert norm(lora_gradient(c, [False] * 4)) == 0
    last, last_two, skip = (
        lora_gradient(c, k) for k in ([False] * 3 + [True], [False] * 2 + [True] * 2, [False, True, False, True])
    )
    assert min(norm(last), norm(last_two), norm(skip)) > 0
    diff = lambda a, b: norm([x - y for x, y in zip(a, b, strict=True)])  # noqa: E731
    assert diff(last, last_two) > 1e-3 * norm(last)
    assert diff(last_two, skip) > 1e-3 * norm(last_two)
