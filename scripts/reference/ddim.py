"""Reference values for src/diffusion (DDIMScheduler), written from diffusers' DDIMScheduler formulas and TRL's
ddim_step_with_logprob, computed in float64 and saved as F32 safetensors + JSON case lists in test/fixtures/ddim/.

Run with Debian's interpreter (it has torch + numpy): /usr/bin/python3 scripts/reference/ddim.py
"""
import json
import math
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "test", "fixtures", "ddim")
T = 1000
SCHEDULES = {
    "scaled_linear": dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
    "linear": dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02),
    "squaredcos_cap_v2": dict(beta_schedule="squaredcos_cap_v2", beta_start=0.0001, beta_end=0.02),
}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4")
        header[name] = {"dtype": "F32", "shape": list(data.shape), "data_offsets": [offset, offset + data.nbytes]}
        blobs.append(data.tobytes())
        offset += data.nbytes
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + b"".join(blobs))


def betas_for(beta_schedule, beta_start, beta_end, num_train_timesteps=T):
    n = num_train_timesteps
    if beta_schedule == "linear":
        return np.linspace(beta_start, beta_end, n, dtype=np.float64)
    if beta_schedule == "scaled_linear":
        return np.linspace(beta_start**0.5, beta_end**0.5, n, dtype=np.float64) ** 2

    def alpha_bar(s):
        return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2

    return np.array([min(1 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)], dtype=np.float64)


def diffusers_float32_alphas_cumprod(beta_schedule, beta_start, beta_end):
    """The same schedule the way diffusers builds it (float32 torch), to bound our float64 reference's distance."""
    if beta_schedule == "linear":
        betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float32)
    elif beta_schedule == "scaled_linear":
        betas = torch.linspace(beta_start**0.5, beta_end**0.5, T, dtype=torch.float32) ** 2
    else:
        betas = torch.tensor(betas_for(beta_schedule, beta_start, beta_end), dtype=torch.float32)
    return torch.cumprod(1.0 - betas, dim=0).double().numpy()


def timesteps_for(spacing, n, steps_offset, num_train_timesteps=T):
    if spacing == "linspace":
        return np.linspace(0, num_train_timesteps - 1, n).round()[::-1].astype(np.int64)
    if spacing == "leading":
        ratio = num_train_timesteps // n
        return (np.arange(0, n) * ratio).round()[::-1].astype(np.int64) + steps_offset
    ratio = num_train_timesteps / n
    return np.round(np.arange(num_train_timesteps, 0, -ratio)).astype(np.int64) - 1


def ddim_step(cfg, alphas_cumprod, n, timesteps, model_output, sample, eta, noise, given_prev):
    """diffusers DDIMScheduler.step with per-sample timesteps (TRL), plus TRL's log-prob; float64 torch."""
    final = 1.0 if cfg["set_alpha_to_one"] else alphas_cumprod[0]
    shape = (-1,) + (1,) * (sample.dim() - 1)
    t = np.asarray(timesteps)
    prev = t - T // n
    a_t = torch.tensor(alphas_cumprod[t], dtype=torch.float64).reshape(shape)
    a_prev = torch.tensor(np.where(prev >= 0, alphas_cumprod[np.maximum(prev, 0)], final), dtype=torch.float64).reshape(shape)
    b_t = 1 - a_t
    if cfg["prediction_type"] == "epsilon":
        x0 = (sample - b_t**0.5 * model_output) / a_t**0.5
        eps = model_output
    elif cfg["prediction_type"] == "sample":
        x0 = model_output
        eps = (sample - a_t**0.5 * x0) / b_t**0.5
    else:
        x0 = a_t**0.5 * sample - b_t**0.5 * model_output
        eps = a_t**0.5 * model_output + b_t**0.5 * sample
    if cfg["clip_sample"]:
        x0 = x0.clamp(-cfg["clip_sample_range"], cfg["clip_sample_range"])
    variance = ((1 - a_prev) / (1 - a_t)) * (1 - a_t / a_prev)
    std = eta * variance**0.5
    mean = a_prev**0.5 * x0 + (1 - a_prev - std**2) ** 0.5 * eps
    out = {"pred_original_sample": x0, "prev_sample": mean + std * noise if eta > 0 else mean}
    if bool((std > 0).all()):  # the Gaussian is degenerate (no log-prob) at eta = 0 or where alpha_prev = alpha_t
        def log_prob(x):
            lp = -((x - mean) ** 2) / (2 * std**2) - torch.log(std) - math.log(math.sqrt(2 * math.pi))
            return lp.mean(dim=tuple(range(1, lp.dim())))

        out["log_prob"] = log_prob(out["prev_sample"])
        if given_prev is not None:
            out["log_prob_given"] = log_prob(given_prev)
    return out


def as_f32_f64(x):
    """Round to float32 (what the fixture stores) and continue in float64, so both sides start from equal inputs."""
    return torch.from_numpy(x.astype(np.float32).astype(np.float64))


def main():
    os.makedirs(OUT, exist_ok=True)
    schedules, max_gap = {}, 0.0
    for name, s in SCHEDULES.items():
        betas = betas_for(**s)
        ac = np.cumprod(1 - betas)
        schedules[f"{name}/betas"] = betas
        schedules[f"{name}/alphas_cumprod"] = ac
        max_gap = max(max_gap, np.abs(diffusers_float32_alphas_cumprod(**s) - ac).max())
    print(f"float64 reference vs diffusers' float32 alphas_cumprod: max |diff| = {max_gap:.2e}")
    assert max_gap < 1e-5
    write_safetensors(os.path.join(OUT, "schedules.safetensors"), schedules)

    cases = []
    for spacing in ("leading", "trailing", "linspace"):
        for offset in (0, 1):
            for n in (1, 3, 7, 10, 20, 25, 50, 100, 333, 400, 1000):
                ts = timesteps_for(spacing, n, offset)
                cases.append(dict(timestep_spacing=spacing, steps_offset=offset, num_inference_steps=n, timesteps=ts.tolist()))
    with open(os.path.join(OUT, "timesteps.json"), "w") as f:
        json.dump(cases, f, separators=(",", ":"))
    sd = next(c["timesteps"] for c in cases if c["timestep_spacing"] == "leading" and c["steps_offset"] == 1 and c["num_inference_steps"] == 50)
    print("leading, N=50, steps_offset=1:", sd[:3], "...", sd[-3:])

    rng = np.random.default_rng(20240601)
    shape = (2, 4, 4, 3)  # [B, H, W, C]
    inputs = {k: rng.standard_normal(shape) for k in ("sample", "model_output", "noise", "noise_given")}
    tensors = {f"inputs/{k}": v for k, v in inputs.items()}
    sample, model_output, noise, noise_given = (as_f32_f64(inputs[k]) for k in ("sample", "model_output", "noise", "noise_given"))

    sd15 = dict(schedule="scaled_linear", clip_sample=False, clip_sample_range=1.0, set_alpha_to_one=False,
                steps_offset=1, prediction_type="epsilon", timestep_spacing="leading")
    configs = [
        sd15,
        dict(sd15, prediction_type="v_prediction", timestep_spacing="trailing", steps_offset=0),
        dict(sd15, prediction_type="sample"),
        dict(sd15, clip_sample=True, clip_sample_range=1.0),
        dict(sd15, prediction_type="v_prediction", clip_sample=True, clip_sample_range=0.5),
        dict(sd15, schedule="linear", set_alpha_to_one=True, steps_offset=0),
        dict(sd15, schedule="squaredcos_cap_v2", timestep_spacing="linspace", steps_offset=0),
    ]
    step_cases = []
    for ci, cfg in enumerate(configs):
        ac = schedules[f"{cfg['schedule']}/alphas_cumprod"]
        for n in (50, 10):
            ts = timesteps_for(cfg["timestep_spacing"], n, cfg["steps_offset"]).tolist()
            for timestep in (ts[0], ts[len(ts) // 2], ts[-1], [ts[0], ts[-1]]):
                for eta in (0.0, 0.5, 1.0):
                    if eta == 0.5 and n == 10:
                        continue
                    t_list = timestep if isinstance(timestep, list) else [timestep]
                    # a plausible x_{t-1} drawn with other noise, for the log-prob of a given sample (DDPO training)
                    given = None
                    if eta > 0:
                        probe = ddim_step(cfg, ac, n, t_list, model_output, sample, eta, noise_given, None)
                        given = as_f32_f64(probe["prev_sample"].numpy())
                    out = ddim_step(cfg, ac, n, t_list, model_output, sample, eta, noise, given)
                    key = f"case{len(step_cases)}"
                    for name, value in out.items():
                        tensors[f"{key}/{name}"] = value.numpy()
                    if "log_prob_given" in out:
                        tensors[f"{key}/prev_sample_given"] = given.numpy()
                    step_cases.append(dict(key=key, config={k: v for k, v in cfg.items() if k != "schedule"}
                                           | SCHEDULES[cfg["schedule"]], num_inference_steps=n, timestep=timestep, eta=eta))
    for name in SCHEDULES:
        ac = schedules[f"{name}/alphas_cumprod"]
        for label, t in (("t500", [500]), ("t0_t999", [0, 999])):
            a = torch.tensor(ac[t], dtype=torch.float64).reshape(-1, 1, 1, 1)
            tensors[f"add_noise/{name}/{label}"] = (a**0.5 * sample + (1 - a) ** 0.5 * noise).numpy()
            tensors[f"velocity/{name}/{label}"] = (a**0.5 * noise - (1 - a) ** 0.5 * sample).numpy()
    write_safetensors(os.path.join(OUT, "steps.safetensors"), tensors)
    with open(os.path.join(OUT, "steps.json"), "w") as f:
        json.dump(step_cases, f, separators=(",", ":"))
    print(f"{len(step_cases)} step cases")


if __name__ == "__main__":
    main()
