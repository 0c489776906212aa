"""test/fixtures/ddim/: diffusers' DDIMScheduler in float64 — schedules, timesteps, steps, add_noise, get_velocity —
and the per-step log-probability DDPO trains with.

  schedules.safetensors  betas and alphas_cumprod of each beta_schedule
  timesteps.json         `timesteps` after set_timesteps for every spacing, steps_offset and step count
  steps.safetensors      inputs, then per case prev_sample, pred_original_sample, log_prob, log_prob_given, and
                         add_noise / velocity; steps.json lists the cases

DDPO's log-prob follows TRL's `ddim_step_with_logprob`: the Gaussian N(μ, σ²) of the DDIM step, with μ diffusers'
`prev_sample` before noise is added (a step with zero `variance_noise`) and σ = eta·√(diffusers' `_get_variance`),
evaluated by torch.distributions.Normal and averaged over all but the batch axis. Per-sample timesteps (TRL steps a
batch whose samples sit at different t) run diffusers' step once per sample.
"""

from pathlib import Path
from unittest import mock

import torch
from diffusers import DDIMScheduler
from diffusers.schedulers import scheduling_ddim

from .common import Seeded, f32, save, write_json

FOLDER = "ddim"

SCHEDULES = {
    "scaled_linear": {"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012},
    "linear": {"beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02},
    "squaredcos_cap_v2": {"beta_schedule": "squaredcos_cap_v2", "beta_start": 0.0001, "beta_end": 0.02},
}


class _Float64Torch:
    """torch, except that torch.float32 is float64."""

    float32 = torch.float64

    def __getattr__(self, name: str) -> object:
        return getattr(torch, name)


def scheduler(**config: object) -> DDIMScheduler:
    """diffusers' DDIMScheduler with its schedule in float64: __init__ builds betas with dtype=torch.float32 written
    out, so the same code runs with float32 read as float64 — diffusers' formulas, not ours, in float64."""
    with mock.patch.object(scheduling_ddim, "torch", _Float64Torch()):
        s = DDIMScheduler(num_train_timesteps=1000, **config)
    assert s.alphas_cumprod.dtype == torch.float64
    return s


def step(s: DDIMScheduler, model_output: torch.Tensor, timesteps: list[int], sample: torch.Tensor, eta: float,
         noise: torch.Tensor) -> dict[str, torch.Tensor]:
    """diffusers' step per sample (each at its own timestep), plus μ and σ of the step's Gaussian."""
    parts: dict[str, list[torch.Tensor]] = {"prev_sample": [], "pred_original_sample": [], "mean": [], "std": []}
    ratio = s.config.num_train_timesteps // s.num_inference_steps
    for b, t in enumerate(timesteps if len(timesteps) > 1 else timesteps * sample.shape[0]):
        one = slice(b, b + 1)
        out = s.step(model_output[one], t, sample[one], eta=eta, variance_noise=noise[one])
        mean = s.step(model_output[one], t, sample[one], eta=eta, variance_noise=torch.zeros_like(noise[one]))
        parts["prev_sample"].append(out.prev_sample)
        parts["pred_original_sample"].append(out.pred_original_sample)
        parts["mean"].append(mean.prev_sample)
        parts["std"].append((eta * s._get_variance(t, t - ratio) ** 0.5).reshape(1, 1, 1, 1).expand_as(sample[one]))
    return {k: torch.cat(v) for k, v in parts.items()}


def log_prob(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return torch.distributions.Normal(mean, std).log_prob(x).mean(dim=tuple(range(1, x.dim())))


def timestep_cases() -> list[dict]:
    cases = []
    for spacing in ["leading", "trailing", "linspace"]:
        for offset in [0, 1]:
            s = scheduler(timestep_spacing=spacing, steps_offset=offset)
            for n in [1, 3, 7, 10, 20, 25, 50, 100, 333, 400, 1000]:
                s.set_timesteps(n)
                cases.append({"timestep_spacing": spacing, "steps_offset": offset, "num_inference_steps": n,
                              "timesteps": s.timesteps.tolist()})
    return cases


SD15 = {"schedule": "scaled_linear", "clip_sample": False, "clip_sample_range": 1.0, "set_alpha_to_one": False,
        "steps_offset": 1, "prediction_type": "epsilon", "timestep_spacing": "leading"}
CONFIGS = [
    SD15,
    {**SD15, "prediction_type": "v_prediction", "timestep_spacing": "trailing", "steps_offset": 0},
    {**SD15, "prediction_type": "sample"},
    {**SD15, "clip_sample": True, "clip_sample_range": 1.0},
    {**SD15, "prediction_type": "v_prediction", "clip_sample": True, "clip_sample_range": 0.5},
    {**SD15, "schedule": "linear", "set_alpha_to_one": True, "steps_offset": 0},
    {**SD15, "schedule": "squaredcos_cap_v2", "timestep_spacing": "linspace", "steps_offset": 0},
]


def generate(root: Path) -> None:
    out = root / FOLDER
    schedules = {}
    for name, betas in SCHEDULES.items():
        s = scheduler(**betas)
        schedules[f"{name}/betas"] = s.betas
        schedules[f"{name}/alphas_cumprod"] = s.alphas_cumprod
    save(out / "schedules.safetensors", schedules)
    write_json(out / "timesteps.json", timestep_cases(), compact=True)

    seeded = Seeded(20240601)
    inputs = {k: seeded.randn(2, 4, 4, 3) for k in ["sample", "model_output", "noise", "noise_given"]}  # [B, H, W, C]
    tensors = {f"inputs/{k}": v for k, v in inputs.items()}
    sample, model_output, noise = inputs["sample"], inputs["model_output"], inputs["noise"]
    cases = []
    for cfg in CONFIGS:
        config = {k: v for k, v in cfg.items() if k != "schedule"} | SCHEDULES[cfg["schedule"]]
        s = scheduler(**config)
        for n in [50, 10]:
            s.set_timesteps(n)
            ts = s.timesteps.tolist()
            for timestep in [ts[0], ts[len(ts) // 2], ts[-1], [ts[0], ts[-1]]]:
                for eta in [0.0, 0.5, 1.0]:
                    if eta == 0.5 and n == 10:
                        continue
                    t_list = timestep if isinstance(timestep, list) else [timestep]
                    result = step(s, model_output, t_list, sample, eta, noise)
                    key = f"case{len(cases)}"
                    tensors[f"{key}/prev_sample"] = result["prev_sample"]
                    tensors[f"{key}/pred_original_sample"] = result["pred_original_sample"]
                    # The Gaussian is degenerate (no log-prob) at eta = 0 or where alpha_prev = alpha_t.
                    if bool((result["std"] > 0).all()):
                        # a plausible x_{t-1} drawn with other noise, for the log-prob of a given sample (DDPO training)
                        given = f32(step(s, model_output, t_list, sample, eta, inputs["noise_given"])["prev_sample"])
                        tensors[f"{key}/log_prob"] = log_prob(result["prev_sample"], result["mean"], result["std"])
                        tensors[f"{key}/log_prob_given"] = log_prob(given, result["mean"], result["std"])
                        tensors[f"{key}/prev_sample_given"] = given
                    cases.append({"key": key, "config": config, "num_inference_steps": n, "timestep": timestep,
                                  "eta": eta})
    for name, betas in SCHEDULES.items():
        s = scheduler(**betas)
        for label, t in [("t500", [500]), ("t0_t999", [0, 999])]:
            timesteps = torch.tensor(t)
            tensors[f"add_noise/{name}/{label}"] = s.add_noise(sample, noise, timesteps)
            tensors[f"velocity/{name}/{label}"] = s.get_velocity(sample, noise, timesteps)
    save(out / "steps.safetensors", tensors)
    write_json(out / "steps.json", cases, compact=True)
