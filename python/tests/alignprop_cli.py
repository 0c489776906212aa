"""The built `alignprop` CLI (node dist/src/cli/main.js), driven from pytest: `alignprop sample` with given initial
latents and DDIM noise, returning the float image it wrote, so diffusers can render the same draw beside it."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline
from safetensors.numpy import load_file
from safetensors.torch import save_file

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / "dist" / "src" / "cli" / "main.js"
TINY_SHAPES = REPO_ROOT / "models" / "tiny-shapes"


@dataclass(frozen=True)
class Draw:
    """One text-to-image request: what both engines are given."""

    prompt: str
    steps: int
    guidance: float
    eta: float
    negative_prompt: str = ""


@dataclass(frozen=True)
class Noise:
    """x_T [1, C, h, w] and, for eta > 0, each DDIM step's z [steps, 1, C, h, w] (PyTorch layout)."""

    latents: torch.Tensor
    variance_noise: torch.Tensor | None


def draw_noise(seed: int, steps: int, channels: int = 4, size: int = 8, eta: float = 0.0) -> Noise:
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn((1, channels, size, size), generator=generator)
    noise = torch.randn((steps, 1, channels, size, size), generator=generator) if eta > 0 else None
    return Noise(latents, noise)


def alignprop(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs the built CLI from the repository root; fails the test with its stderr when it exits non-zero."""
    result = subprocess.run(["node", str(CLI), *args], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, f"alignprop {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
    return result


def alignprop_sample(
    draw: Draw,
    noise: Noise,
    workdir: Path,
    model: Path = TINY_SHAPES,
    lora: Path | None = None,
    lora_scale: float | None = None,
) -> np.ndarray:
    """`alignprop sample --latents … --out x.safetensors`: the float image [1, H, W, 3] in [0, 1]."""
    tensors = {"latents": noise.latents.contiguous()}
    if noise.variance_noise is not None:
        tensors["variance_noise"] = noise.variance_noise.contiguous()
    noise_file, out = workdir / "noise.safetensors", workdir / "image.safetensors"
    save_file(tensors, str(noise_file))
    args = ["sample", "--model", str(model), "--prompt", draw.prompt, "--negative-prompt", draw.negative_prompt]
    args += ["--steps", str(draw.steps), "--guidance", str(draw.guidance), "--eta", str(draw.eta)]
    args += ["--latents", str(noise_file), "--out", str(out)]
    if lora is not None:
        args += ["--lora", str(lora)]
    if lora_scale is not None:
        args += ["--lora-scale", str(lora_scale)]
    alignprop(*args)
    return load_file(str(out))["images"]


class GivenNoiseDDIMScheduler(DDIMScheduler):
    """diffusers' DDIMScheduler, with each step's z taken from `variance_noise` (set before each call of the
    pipeline) instead of a generator: the pipeline's own loop, with the noise the other engine was given."""

    variance_noise: list[torch.Tensor]

    def step(
        self,
        model_output: torch.Tensor,
        timestep: int,
        sample: torch.Tensor,
        eta: float = 0.0,
        use_clipped_model_output: bool = False,
        generator: torch.Generator | None = None,
        variance_noise: torch.Tensor | None = None,
        return_dict: bool = True,
    ):
        # The pipeline passes eta only to a step whose signature names it, so this one keeps diffusers' parameters.
        if eta > 0:
            variance_noise = self.variance_noise.pop(0)
        return super().step(
            model_output, timestep, sample, eta, use_clipped_model_output, generator, variance_noise, return_dict
        )


def load_pipeline(model: Path = TINY_SHAPES) -> StableDiffusionPipeline:
    """The folder as diffusers loads it, offline, float32 on the CPU, with the DDIM noise taken from Noise."""
    pipe = StableDiffusionPipeline.from_pretrained(model, local_files_only=True, safety_checker=None)
    pipe.scheduler = GivenNoiseDDIMScheduler.from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def diffusers_sample(
    pipe: StableDiffusionPipeline, draw: Draw, noise: Noise, lora_scale: float | None = None
) -> np.ndarray:
    """The pipeline's image [1, H, W, 3] in [0, 1] (output_type="np") for the same draw and noise; `lora_scale`
    mixes a loaded LoRA in at that strength (cross_attention_kwargs={"scale": …})."""
    assert draw.eta == 0 or noise.variance_noise is not None, "eta > 0 needs the per-step noise"
    pipe.scheduler.variance_noise = list(noise.variance_noise) if draw.eta > 0 else []
    with torch.no_grad():
        out = pipe(
            draw.prompt,
            negative_prompt=draw.negative_prompt,
            num_inference_steps=draw.steps,
            guidance_scale=draw.guidance,
            eta=draw.eta,
            latents=noise.latents,
            output_type="np",
            cross_attention_kwargs=None if lora_scale is None else {"scale": lora_scale},
        )
    assert pipe.scheduler.variance_noise == [], "every step's noise was used"
    return out.images
