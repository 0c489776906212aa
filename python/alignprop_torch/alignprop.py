"""AlignProp (Prabhudesai et al. 2023, "Aligning Text-to-Image Diffusion Models with Reward Backpropagation",
arXiv:2310.03739), Algorithm 1, as TRL's AlignPropTrainer runs it: LoRA adapters on the UNet are trained by
backpropagating a differentiable reward of the decoded image through the last (kept) steps of the DDIM chain. The
same algorithm as the TF.js engine's src/algorithms/alignprop.ts, on diffusers, peft and torch.

Per optimizer step, for each of `train_gradient_accumulation_steps` micro-batches:
  1. draw prompts; encode them (no gradient); draw which steps keep gradient, x_T and the chain's noise
  2. run `sample_num_steps` DDIM steps with classifier-free guidance, gradient only through the kept steps
  3. decode x_0 with the VAE (with gradient), images in [0, 1]; reward; loss / k; backward into the LoRA weights
then 4. clip the summed gradient to `train_max_grad_norm` and take one AdamW step.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import torch

from .config import AlignPropConfig
from .pipeline import Components, decode_latents, encode_prompts
from .precision import Precision
from .prompts import PromptSource
from .rewards import Reward, require_differentiable, score_images
from .sampler import Chain, sample_chain
from .truncation import Truncation, kept_steps


@dataclass
class StepImages:
    #: [B, 3, H, W] in [0, 1], float32 on the CPU.
    images: torch.Tensor
    prompts: list[str]
    prompt_metadata: list[dict[str, Any]]
    rewards: list[float]


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
    #: This micro-batch's share of the step's loss (1/k of its own).
    loss: float
    rewards: list[float]
    #: [B, 3, H, W] in [0, 1], detached, on the device.
    images: torch.Tensor


@dataclass
class StepResult:
    loss: float
    rewards: list[float]
    grad_norm: float
    lr: float
    images: StepImages | None = None


def adamw(params: list[torch.nn.Parameter], c: AlignPropConfig) -> torch.optim.AdamW:
    """TRL's optimizer from its config fields."""
    return torch.optim.AdamW(
        params,
        lr=c.train_learning_rate,
        betas=(c.train_adam_beta1, c.train_adam_beta2),
        weight_decay=c.train_adam_weight_decay,
        eps=c.train_adam_epsilon,
    )


class AlignProp:
    def __init__(
        self, c: Components, config: AlignPropConfig, reward: Reward, prompt_source: PromptSource, precision: Precision
    ) -> None:
        """`c`: on the device, frozen weights in `precision.weight_dtype`, LoRA attached (lora.add_lora)."""
        require_differentiable(reward)
        self.c = c
        self.config = config
        self.reward = reward
        self.prompt_source = prompt_source
        self.precision = precision
        named = [(name, p) for name, p in c.unet.named_parameters() if p.requires_grad]
        #: The LoRA parameters (the only trainable ones) and their UNet state-dict names.
        self.lora_names = [name for name, _ in named]
        self.params = [p for _, p in named]
        if not self.params:
            raise ValueError("the UNet has no trainable LoRA parameters; attach them (lora.add_lora) before training")
        self.generator = torch.Generator().manual_seed(config.seed)
        self.truncation = Truncation.from_config(config)
        self.optimizer = adamw(self.params, config)
        self.scaler = precision.grad_scaler()
        #: The negative prompt's embedding [1, T, D], encoded once (TRL's `neg_prompt_embed`).
        self.negative_embedding = encode_prompts(c, [config.negative_prompts])
        size = c.unet.config.sample_size
        self.latent_size = (size, size) if isinstance(size, int) else tuple(size)

    def step(self, keep_images: bool = False) -> StepResult:
        o, k = self.config, self.config.train_gradient_accumulation_steps
        self.optimizer.zero_grad(set_to_none=False)
        loss, rewards, last = 0.0, [], None
        for micro in range(k):
            # 1. Prompts, which steps keep gradient, x_T, the chain's noise; 2.–3. the loss and its gradient.
            m = self.draw()
            r = self.backward(m, k)
            loss += r.loss
            rewards += r.rewards
            if keep_images and micro == k - 1:
                last = StepImages(r.images.float().cpu(), m.prompts, m.metadata, r.rewards)

        # 4. Clip the global gradient norm (scaled by max/(norm + 1e-6) when above), AdamW.
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, o.train_max_grad_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return StepResult(loss, rewards, float(grad_norm), o.train_learning_rate, last)

    def backward(self, m: MicroBatch, k: int = 1) -> MicroResult:
        """Steps 2.–3. for one micro-batch's draws: the chain (prompts encoded without gradient), the decoded images,
        their rewards and the loss (1/k of the step's), whose gradient is added to the LoRA weights' `.grad`."""
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
        )
        with self.precision.autocast():
            images = decode_latents(self.c.vae, sample_chain(chain, m.keep, m.x_t))  # [B, 3, H, W]
            rewards, _ = score_images(self.reward, images, m.prompts, m.metadata)
            loss = self.loss_from(rewards.float()) / k
        if loss.requires_grad:  # false only when no step is kept: the LoRA gradient is then zero
            self.scaler.scale(loss).backward()
        return MicroResult(loss.detach().item(), rewards.detach().float().tolist(), images.detach())

    def draw(self) -> MicroBatch:
        """The next micro-batch's prompts, kept steps, x_T and noise (the TF.js engine draws them in this order)."""
        o = self.config
        drawn = [self.prompt_source(self.generator) for _ in range(o.train_batch_size)]
        keep = kept_steps(o.sample_num_steps, self.truncation, self.generator)
        x_t = self.normal(self.c.scheduler.init_noise_sigma)
        noise = [self.normal() for _ in range(o.sample_num_steps)] if o.sample_eta > 0 else []
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

    def context(self, prompts: list[str]) -> torch.Tensor:
        """[negative × B; prompts] [2B, T, D] with guidance, else the prompts' [B, T, D]."""
        embedded = encode_prompts(self.c, prompts)
        if self.config.sample_guidance_scale <= 1:
            return embedded
        return torch.cat([self.negative_embedding.expand(len(prompts), -1, -1), embedded])

    def normal(self, sigma: float = 1.0) -> torch.Tensor:
        """N(0, σ²) latents [B, C, h, w] from the job's generator (on the CPU, so every device draws the same)."""
        shape = (self.config.train_batch_size, self.c.unet.config.in_channels, *self.latent_size)
        return (torch.randn(shape, generator=self.generator) * sigma).to(self.precision.device)

    def training_state(self) -> dict[str, Any]:
        """What a checkpoint must hold to continue exactly: LoRA weights, AdamW moments, loss scale, generator.
        A copy: the optimizer updates its moments in place."""
        return {
            "lora": {n: p.detach().cpu().clone() for n, p in zip(self.lora_names, self.params, strict=True)},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),
            "scaler": self.scaler.state_dict(),
            "generator": self.generator.get_state(),
        }

    def restore(self, state: dict[str, Any]) -> None:
        names, saved = set(self.lora_names), set(state["lora"])
        if names != saved:
            raise ValueError(f"LoRA keys differ: missing {sorted(names - saved)}, unexpected {sorted(saved - names)}")
        with torch.no_grad():
            for name, p in zip(self.lora_names, self.params, strict=True):
                p.copy_(state["lora"][name])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.generator.set_state(state["generator"])
