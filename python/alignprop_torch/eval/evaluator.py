"""One evaluation pass (src/eval/evaluator.ts, eval-set.ts): every eval prompt with every noise seed, prompt-major,
sampled through the job's current weights without gradient (the adapters at `lora_scale`), `batch_size` at a time;
the images as 8-bit RGB, which the run saves and every monitor reads; each scored with the run's training reward;
then the monitors. A seed fixes a sample's whole noise (x_T, then with sample_eta > 0 every DDIM step's z), drawn
from a CPU generator seeded with it alone, so a (prompt, seed) pair gets the same noise in any batch. The pass at
step 0 is the base model's, kept for `drift`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from alignprop_torch.eval.monitors import EvalSamples, Monitor, load_monitors, measure, parse_shape_prompt
from alignprop_torch.pipeline import decode_latents
from alignprop_torch.png import as_floats, to_8bit
from alignprop_torch.rewards import score_images
from alignprop_torch.sampler import Chain, run_chain

if TYPE_CHECKING:
    from alignprop_torch.lora_trainer import LoraTrainer
    from alignprop_torch.rewards import Reward


@dataclass(frozen=True)
class EvalSample:
    prompt: str
    seed: int
    metadata: dict[str, Any]


@dataclass
class EvalOutcome:
    step: int
    monitors: dict[str, float]
    samples: list[EvalSample]
    #: uint8 [N, H, W, 3].
    images: np.ndarray
    rewards: list[float]


def eval_samples(prompts: list[str], seeds: list[int]) -> list[EvalSample]:
    return [EvalSample(p, s, parse_shape_prompt(p)) for p in prompts for s in seeds]


class Evaluator:
    def __init__(
        self,
        trainer: LoraTrainer,
        reward: Reward,
        prompts: list[str],
        seeds: list[int],
        monitors: list[str],
        batch_size: int,
    ) -> None:
        if not prompts:
            raise ValueError("eval_prompts is empty and the model names none: give eval_prompts, or set eval_freq to 0")
        if not seeds:
            raise ValueError("eval_seeds is empty: give at least one noise seed")
        self.trainer, self.reward, self.batch_size = trainer, reward, batch_size
        self.samples = eval_samples(prompts, seeds)
        self.monitors: list[Monitor] = load_monitors(monitors)
        self.base: np.ndarray | None = None

    def use_base(self, images: np.ndarray) -> None:
        """The base model's samples (uint8 [N, H, W, 3], the evaluation at step 0), for `drift`."""
        if len(images) == len(self.samples):
            self.base = as_floats(images)

    def evaluate(self, step: int) -> EvalOutcome:
        images = np.concatenate(
            [self.sample(self.samples[i : i + self.batch_size]) for i in range(0, len(self.samples), self.batch_size)]
        )
        pixels = as_floats(images)
        if step == 0 and self.base is None:
            self.base = pixels
        prompts = [s.prompt for s in self.samples]
        metadata = [s.metadata for s in self.samples]
        rewards = self.score(pixels, prompts, metadata)
        monitors = measure(self.monitors, EvalSamples(prompts, metadata, pixels, rewards, self.base))
        return EvalOutcome(step, monitors, self.samples, images, rewards)

    def sample(self, batch: list[EvalSample]) -> np.ndarray:
        """One batch through the current weights, no gradient: uint8 [B, H, W, 3]."""
        t, o = self.trainer, self.trainer.config
        device = t.precision.device
        t.c.scheduler.set_timesteps(o.sample_num_steps, device=device)
        noise = [self.seeded_noise(s.seed) for s in batch]
        x_t = torch.cat([n[0] for n in noise]).to(device) * t.c.scheduler.init_noise_sigma
        steps = (
            [torch.cat([n[1][i] for n in noise]).to(device) for i in range(o.sample_num_steps)]
            if o.sample_eta > 0
            else []
        )
        chain = Chain(
            unet=t.c.unet,
            scheduler=t.c.scheduler,
            context=t.context([s.prompt for s in batch]),
            guidance_scale=o.sample_guidance_scale,
            eta=o.sample_eta,
            noise=steps,
            checkpointing=False,
            lora_scale=o.lora_scale,
        )
        with torch.no_grad(), t.precision.autocast():
            x0 = run_chain(chain, [False] * o.sample_num_steps, x_t).x0
            return to_8bit(decode_latents(t.c.vae, x0))

    def seeded_noise(self, seed: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x_T [1, C, h, w] (unit variance) and, with eta > 0, each step's z, from a generator seeded with `seed`."""
        t = self.trainer
        generator = torch.Generator().manual_seed(seed)
        shape = (1, t.c.unet.config.in_channels, *t.latent_size)
        x_t = torch.randn(shape, generator=generator)
        steps = t.config.sample_num_steps if t.config.sample_eta > 0 else 0
        return x_t, [torch.randn(shape, generator=generator) for _ in range(steps)]

    def score(self, pixels: np.ndarray, prompts: list[str], metadata: list[dict[str, Any]]) -> list[float]:
        """The training reward of the saved 8-bit images, `batch_size` at a time."""
        device = self.trainer.precision.device
        scores: list[float] = []
        for i in range(0, len(prompts), self.batch_size):
            j = i + self.batch_size
            images = torch.from_numpy(pixels[i:j]).permute(0, 3, 1, 2).to(device)  # [B, 3, H, W]
            with torch.no_grad():
                scores += score_images(self.reward, images, prompts[i:j], metadata[i:j])[0].float().tolist()
        return scores
