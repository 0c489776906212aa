"""The differentiable DDIM chain: checkpointing changes memory, not gradients, and with every step kept the LoRA
gradient through it is the true derivative (central finite differences in float64; a truncated chain's gradient is
by design not the derivative of its loss)."""

from __future__ import annotations

import torch
from torch_fixtures import lora_params, perturb_lora_b, tiny_chain, tiny_shapes

from alignprop_torch.pipeline import decode_latents
from alignprop_torch.rewards.builtin import brightness
from alignprop_torch.sampler import sample_chain

KEEP = [False, True, False, True]


def loss_and_grads(c, checkpointing: bool) -> tuple[float, list[torch.Tensor]]:
    chain, x_t = tiny_chain(c, steps=4, eta=1.0, checkpointing=checkpointing, batch=2)
    loss = -brightness.score(decode_latents(c.vae, sample_chain(chain, KEEP, x_t)), [], [])[0].mean()
    return loss.detach().item(), list(torch.autograd.grad(loss, lora_params(c)))


def test_checkpointing_the_kept_unet_calls_gives_the_same_loss_and_gradient():
    c = tiny_shapes()
    perturb_lora_b(c)
    loss_plain, plain = loss_and_grads(c, checkpointing=False)
    loss_ckpt, ckpt = loss_and_grads(c, checkpointing=True)
    assert loss_ckpt == loss_plain
    for a, b in zip(plain, ckpt, strict=True):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-9)


def test_with_every_step_kept_the_lora_gradient_matches_central_finite_differences_in_float64():
    c = tiny_shapes(torch.float64)
    params = lora_params(c)
    with torch.no_grad():
        for p in params:
            p.data = p.data.double()
    perturb_lora_b(c)
    generator = torch.Generator().manual_seed(3)
    direction = [torch.randn(p.shape, generator=generator, dtype=torch.float64) for p in params]

    def loss() -> torch.Tensor:
        chain, x_t = tiny_chain(c, steps=3, eta=1.0, checkpointing=True)
        return -brightness.score(decode_latents(c.vae, sample_chain(chain, [True, True, True], x_t)), [], [])[0].mean()

    analytic = sum(float((g * d).sum()) for g, d in zip(torch.autograd.grad(loss(), params), direction, strict=True))
    h = 1e-5
    with torch.no_grad():
        values = []
        for sign in (1, -1):
            for p, d in zip(params, direction, strict=True):
                p += sign * h * d
            values.append(loss().item())
            for p, d in zip(params, direction, strict=True):
                p -= sign * h * d
    numeric = (values[0] - values[1]) / (2 * h)
    assert abs(analytic) > 1e-6
    assert abs(numeric - analytic) <= 1e-6 * abs(analytic), (numeric, analytic)
