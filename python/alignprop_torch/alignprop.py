"""AlignProp (Prabhudesai et al. 2023, "Aligning Text-to-Image Diffusion Models with Reward Backpropagation",
arXiv:2310.03739), Algorithm 1, as TRL's AlignPropTrainer runs it: LoRA adapters on the UNet are trained by
backpropagating a differentiable reward of the decoded image through the last (kept) steps of the DDIM chain. The
same algorithm as the TF.js engine's src/algorithms/alignprop.ts, on diffusers, peft and torch.

Per optimizer step, for each of `train_gradient_accumulation_steps` micro-batches:
  1. draw prompts; encode them (no gradient); draw which steps keep gradient, x_T and the chain's noise
  2. run `sample_num_steps` DDIM steps with classifier-free guidance, gradient only through the kept steps
  3. decode x_0 with the VAE (with gradient), images in [0, 1]; reward; loss (+ kl_coeff · kl, the kept steps'
     squared distance to the base UNet's prediction, when kl_coeff > 0) / k; backward into the LoRA weights
then 4. clip the summed gradient to `train_max_grad_norm` and take one AdamW step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from .config import AlignPropConfig
from .lora_trainer import LoraTrainer, StepImages, StepResult
from .pipeline import Components, decode_latents
from .precision import Precision
from .prompts import PromptSource
from .rewards import Reward, require_differentiable, score_images
from .sampler import Chain, run_chain
from .truncation import Truncation, kept_steps


@dataclass
class MicroBatch:
    """One micro-batch's draws from the job's generator, in the order they are drawn."""

    prompts: list[str]
    metadata: list[dict[str, Any]]
    #: keep[i]: step i's UNet output carries gradient.
    keep: list[bool]
    #: x_T [B, C, h, w].
    x_t: torch.Tensor
    #: z for each step's σ_t·z; empty when eta = 0.
    noise: list[torch.Tensor]


@dataclass
class MicroResult:
    #: This micro-batch's share of the step's loss (1/k of its own, kl term included).
    loss: float
    rewards: list[float]
    #: [B, 3, H, W] in [0, 1], detached, on the device.
    images: torch.Tensor
    #: This micro-batch's share (1/k) of the kept steps' kl to the base UNet; 0 when kl_coeff = 0.
    kl: float = 0.0


class AlignProp(LoraTrainer):
    config: AlignPropConfig

    def __init__(
        self, c: Components, config: AlignPropConfig, reward: Reward, prompt_source: PromptSource, precision: Precision
    ) -> None:
        """`c`: on the device, frozen weights in `precision.weight_dtype`, LoRA attached (lora.add_lora)."""
        require_differentiable(reward)
        super().__init__(c, config, precision)
        self.reward = reward
        self.prompt_source = prompt_source
        self.truncation = Truncation.from_config(config)

    def step(self, keep_images: bool = False) -> StepResult:
        o, k = self.config, self.config.train_gradient_accumulation_steps
        self.optimizer.zero_grad(set_to_none=False)
        loss, kl, rewards, last = 0.0, 0.0, [], None
        for micro in range(k):
            # 1. Prompts, which steps keep gradient, x_T, the chain's noise; 2.–3. the loss and its gradient.
            m = self.draw()
            r = self.micro_backward(m, k)
            loss += r.loss
            kl += r.kl
            rewards += r.rewards
            if keep_images and micro == k - 1:
                last = StepImages(r.images.float().cpu(), m.prompts, m.metadata, r.rewards)

        # 4. Clip the global gradient norm, AdamW.
        grad_norm = self.optimizer_step()
        scalars = {"kl": kl} if o.kl_coeff > 0 else {}
        return StepResult(loss, rewards, grad_norm, o.train_learning_rate, last, scalars)

    def micro_backward(self, m: MicroBatch, k: int = 1) -> MicroResult:
        """Steps 2.–3. for one micro-batch's draws: the chain (prompts encoded without gradient), the decoded images,
        their rewards and the loss (1/k of the step's, + kl_coeff · kl when kl_coeff > 0), whose gradient is added to
        the LoRA weights' `.grad`."""
        o = self.config
        self.c.scheduler.set_timesteps(o.sample_num_steps, device=self.precision.device)
        chain = Chain(
            unet=self.c.unet,
            scheduler=self.c.scheduler,
            context=self.context(m.prompts),
            guidance_scale=o.sample_guidance_scale,
            eta=o.sample_eta,
            noise=m.noise,
            checkpointing=o.gradient_checkpointing,
            kl=o.kl_coeff > 0,
        )
        kl = 0.0
        with self.precision.autocast():
            sampled = run_chain(chain, m.keep, m.x_t)
            images = decode_latents(self.c.vae, sampled.x0)  # [B, 3, H, W]
            rewards, _ = score_images(self.reward, images, m.prompts, m.metadata)
            loss = self.loss_from(rewards.float()) / k
            if sampled.kl is not None:
                loss = loss + o.kl_coeff * sampled.kl / k
                kl = sampled.kl.item() / k
        if loss.requires_grad:  # false only when no step is kept: the LoRA gradient is then zero
            self.backward(loss)
        return MicroResult(loss.detach().item(), rewards.detach().float().tolist(), images.detach(), kl)

    def draw(self) -> MicroBatch:
        """The next micro-batch's prompts, kept steps, x_T and noise (the TF.js engine draws them in this order)."""
        o = self.config
        drawn = [self.prompt_source(self.generator) for _ in range(o.train_batch_size)]
        keep = kept_steps(o.sample_num_steps, self.truncation, self.generator)
        b = o.train_batch_size
        x_t = self.normal(b, self.c.scheduler.init_noise_sigma)
        noise = [self.normal(b) for _ in range(o.sample_num_steps)] if o.sample_eta > 0 else []
        return MicroBatch([p for p, _ in drawn], [m for _, m in drawn], keep, x_t, noise)

    def loss_from(self, rewards: torch.Tensor) -> torch.Tensor:
        """ "negative_reward": −mean r; "trl": mean(10 − r), TRL's calculate_loss; "target": mean |r − target|."""
        match self.config.loss:
            case "negative_reward":
                return -rewards.mean()
            case "trl":
                return (10 - rewards).mean()
            case "target":
                if self.config.reward_target is None:
                    raise ValueError('reward_target is missing while loss="target"; set the reward value to aim for')
                return (rewards - self.config.reward_target).abs().mean()
        raise ValueError(f"loss={self.config.loss!r} must be one of negative_reward, trl, target")
