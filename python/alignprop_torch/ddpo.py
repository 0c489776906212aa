"""DDPO (Black et al. 2023, "Training Diffusion Models with Reinforcement Learning", arXiv:2305.13301), DDPO_IS as
TRL's DDPOTrainer runs it, on the same sampler, LoRA adapters and optimizer as AlignProp: the reward needs no
gradient, only values. The same algorithm as the TF.js engine's src/algorithms/ddpo.ts, on diffusers, peft and torch.

One epoch (one trainer step):
  1. sample `sample_num_batches_per_epoch` batches of `sample_batch_size` images with the DDIM chain (eta > 0,
     guidance), without gradient, keeping every latent and each step's log-prob; score the images
  2. advantages: rewards standardised over the epoch's batch, or per prompt (TRL's stat tracker); in a
     data-parallel job over every rank's batch, each rank training on its own samples
  3. `train_num_inner_epochs` times: shuffle the samples, and each sample's timesteps independently; for each
     minibatch of `train_batch_size` and each of its first ⌊sample_num_steps·train_timestep_fraction⌋ shuffled
     timesteps, recompute the step's log-prob under the current weights and take the PPO-clip loss; the gradients
     of `train_gradient_accumulation_steps` minibatches × those timesteps are averaged (as accelerate does for
     TRL), clipped to `train_max_grad_norm`, and applied with AdamW.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .config import DDPOConfig
from .ddim_log_prob import ddpo_scheduler
from .ddpo_advantages import STAT_TRACKER_PREFIX, PerPromptStatTracker, batch_advantages
from .ddpo_trajectory import sample_trajectory, step_log_prob
from .lora_trainer import LoraTrainer, StepImages, StepResult
from .pipeline import Components, decode_latents, encode_prompts
from .ppo import PpoClip, ppo_clip_loss, ppo_stats
from .precision import Precision
from .prompts import PromptSource
from .rewards import Reward, score_images
from .sampler import Chain


@dataclass
class Samples:
    """The epoch's samples (N = sample_num_batches_per_epoch × sample_batch_size, S = sample_num_steps)."""

    #: [N, S+1, C, h, w]: sample n's latent before step i at [n, i] (i = S: x_0).
    latents: torch.Tensor
    #: [N, S]: log-prob of step i of sample n under the sampling weights.
    log_probs: torch.Tensor
    #: [N, T, D]: the prompts' text embeddings.
    embeds: torch.Tensor
    prompts: list[str]
    rewards: list[float]
    images: StepImages | None


@dataclass
class Trained:
    """One entry per PPO term (minibatch × timestep), and one grad norm per optimizer step."""

    losses: list[float] = field(default_factory=list)
    approx_kls: list[float] = field(default_factory=list)
    clip_fractions: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


class DDPO(LoraTrainer):
    config: DDPOConfig
    extra_prefixes = (STAT_TRACKER_PREFIX,)

    def __init__(
        self, c: Components, config: DDPOConfig, reward: Reward, prompt_source: PromptSource, precision: Precision
    ) -> None:
        """`c`: on the device, frozen weights in `precision.weight_dtype`, LoRA attached (lora.add_lora)."""
        super().__init__(c, config, precision)
        self.reward = reward
        self.prompt_source = prompt_source
        self.scheduler = ddpo_scheduler(c.scheduler)
        self.stat_tracker = (
            PerPromptStatTracker(config.per_prompt_stat_tracking_buffer_size, config.per_prompt_stat_tracking_min_count)
            if config.per_prompt_stat_tracking
            else None
        )

    def step(self, keep_images: bool = False) -> StepResult:
        o = self.config
        self.scheduler.set_timesteps(o.sample_num_steps, device=self.precision.device)
        # 1. Trajectories, images and rewards, without gradient.
        s = self.sample(keep_images)
        # 2. Advantages, over every rank's samples.
        advantages = self.advantages(s.prompts, s.rewards)
        # 3. PPO updates.
        t = self.train(s, torch.tensor(advantages, dtype=torch.float32, device=self.precision.device))
        scalars = {"approx_kl": mean(t.approx_kls), "clip_fraction": mean(t.clip_fractions)}
        return StepResult(mean(t.losses), s.rewards, mean(t.grad_norms), o.train_learning_rate, s.images, scalars)

    def advantages(self, prompts: list[str], rewards: list[float]) -> list[float]:
        """This rank's samples' advantages, standardised over the whole job's samples as TRL does (its rewards and
        prompts `accelerator.gather`ed, in rank order): every rank computes them alike, so the stat tracker's buffers
        stay identical on every rank, and keeps its own slice."""
        parts = self.ranks.gather((prompts, rewards))
        job_prompts = [p for ps, _ in parts for p in ps]
        job_rewards = [r for _, rs in parts for r in rs]
        if self.stat_tracker is not None:
            advantages = self.stat_tracker.update(job_prompts, job_rewards)
        else:
            advantages = batch_advantages(job_rewards)
        start = sum(len(rs) for _, rs in parts[: self.ranks.rank])
        return advantages[start : start + len(rewards)]

    def sample(self, keep_images: bool) -> Samples:
        o, b = self.config, self.config.sample_batch_size
        latents, log_probs, embeds, prompts, rewards, images = [], [], [], [], [], None
        for batch in range(o.sample_num_batches_per_epoch):
            drawn = [self.prompt_source(self.generator) for _ in range(b)]
            batch_prompts, metadata = [p for p, _ in drawn], [m for _, m in drawn]
            embedded = encode_prompts(self.c, batch_prompts)  # [b, T, D]
            x_t = self.normal(b, self.scheduler.init_noise_sigma)
            noise = [self.normal(b) for _ in range(o.sample_num_steps)]
            chain = self.chain(self.with_negative(embedded), o.sample_guidance_scale, noise)
            with torch.no_grad(), self.precision.autocast():
                trajectory = sample_trajectory(chain, x_t)
                decoded = decode_latents(self.c.vae, trajectory.latents[:, -1])  # [b, 3, H, W] in [0, 1]
                batch_rewards = score_images(self.reward, decoded, batch_prompts, metadata)[0].float().tolist()
            if keep_images and batch == o.sample_num_batches_per_epoch - 1:
                images = StepImages(decoded.float().cpu(), batch_prompts, metadata, batch_rewards)
            latents.append(trajectory.latents)
            log_probs.append(trajectory.log_probs.float())
            embeds.append(embedded)
            prompts += batch_prompts
            rewards += batch_rewards
        return Samples(torch.cat(latents), torch.cat(log_probs), torch.cat(embeds), prompts, rewards, images)

    def train(self, s: Samples, advantages: torch.Tensor) -> Trained:
        o = self.config
        n, steps = len(s.prompts), o.sample_num_steps
        per_update = o.train_gradient_accumulation_steps * o.trained_timesteps
        # With train_cfg the recomputation uses guidance exactly when sampling did (w > 1); TRL applies its formula
        # even at w ≤ 1, where its sampler ran unguided, so its ratios would start away from 1.
        guided = o.train_cfg and o.sample_guidance_scale > 1
        clip = PpoClip(o.train_clip_range, o.train_adv_clip_max)
        log, terms = Trained(), 0
        self.optimizer.zero_grad(set_to_none=False)
        for _ in range(o.train_num_inner_epochs):
            # TRL shuffles the samples, then each sample's timesteps independently.
            order = torch.randperm(n, generator=self.generator)
            step_orders = torch.stack([torch.randperm(steps, generator=self.generator) for _ in range(n)])  # [N, S]
            for start in range(0, n, o.train_batch_size):
                rows = order[start : start + o.train_batch_size]  # [B]
                row_steps = step_orders[start : start + o.train_batch_size]  # [B, S]
                chain = self.chain(self.with_negative(s.embeds[rows], guided), o.sample_guidance_scale if guided else 1)
                for j in range(o.trained_timesteps):
                    at = row_steps[:, j]  # [B]: one step index per sample
                    old = s.log_probs[rows, at]
                    with self.precision.autocast():
                        timesteps = self.scheduler.timesteps[at.to(self.scheduler.timesteps.device)]
                        log_prob = step_log_prob(chain, s.latents[rows, at], timesteps, s.latents[rows, at + 1])
                    loss = ppo_clip_loss(log_prob.float(), old, advantages[rows], clip)
                    # accelerate divides each term's loss by the number of terms accumulated per optimizer step.
                    self.backward(loss / per_update)
                    stats = ppo_stats(log_prob, old, clip.clip_range)
                    log.losses.append(loss.item())
                    log.approx_kls.append(stats.approx_kl)
                    log.clip_fractions.append(stats.clip_fraction)
                    terms += 1
                    if terms % per_update == 0:
                        log.grad_norms.append(self.optimizer_step())
                        self.optimizer.zero_grad(set_to_none=False)
        return log

    def chain(self, context: torch.Tensor, guidance_scale: float, noise: list[torch.Tensor] | None = None) -> Chain:
        return Chain(self.c.unet, self.scheduler, context, guidance_scale, self.config.sample_eta, noise or [], False)

    def extra_state(self) -> dict[str, torch.Tensor]:
        """The per-prompt reward buffers when tracking."""
        return {} if self.stat_tracker is None else self.stat_tracker.state()

    def restore_extra(self, tensors: dict[str, torch.Tensor]) -> None:
        if self.stat_tracker is None:
            if tensors:
                raise ValueError(
                    f"the checkpoint holds per-prompt reward buffers ({', '.join(sorted(tensors))}) but "
                    "per_prompt_stat_tracking is off"
                )
            return
        self.stat_tracker.restore(tensors)
