"""What every fixture module shares: the output folder, seeded float32-exact random values, seeded weights for a
library module, NCHW → NHWC, and the writers of safetensors, JSON and key lists.

Values are drawn in float64 and rounded to float32, because the fixtures store float32 and both sides must start from
the same numbers; the libraries then compute in float64, so the stored outputs carry only the final rounding.
"""

import json
import math
from pathlib import Path

import torch
from safetensors.torch import save_file

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "test" / "fixtures"


class Seeded:
    """One generator per fixture; every draw is rounded to float32 and held as float64."""

    def __init__(self, seed: int) -> None:
        self.generator = torch.Generator().manual_seed(seed)

    def randn(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        return f32(scale * torch.randn(shape, generator=self.generator, dtype=torch.float64))

    def rand(self, *shape: int) -> torch.Tensor:
        return f32(torch.rand(shape, generator=self.generator, dtype=torch.float64))

    def randint(self, low: int, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(low, high, shape, generator=self.generator)

    def init(self, module: torch.nn.Module) -> torch.nn.Module:
        """Random weights for every parameter, in float64; returns the module in eval mode.

        Matrices and kernels are uniform with unit output variance (bound √(3/fan_in)), so activations stay O(1) and
        attention is far from flat; 1-d weights (norm affines) are 1 + 0.2·N(0, 1); biases and other vectors
        0.2·N(0, 1); 0-d parameters (CLIP's logit_scale) keep their init value, rounded to float32.
        """
        module.to(torch.float64).eval()
        with torch.no_grad():
            for name, p in module.named_parameters():
                if p.dim() == 0:
                    value = f32(p.detach())
                elif p.dim() >= 2:
                    bound = math.sqrt(3 / math.prod(p.shape[1:]))
                    value = (torch.rand(p.shape, generator=self.generator, dtype=torch.float64) * 2 - 1) * bound
                elif name.endswith("weight"):
                    value = 1 + self.randn(*p.shape, scale=0.2)
                else:
                    value = self.randn(*p.shape, scale=0.2)
                p.copy_(f32(value))
        return module


def f32(x: torch.Tensor) -> torch.Tensor:
    """x rounded to float32, held as float64."""
    return x.detach().to(torch.float32).to(torch.float64)


def nhwc(x: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] → [B, H, W, C], the TF.js layout."""
    return x.permute(0, 2, 3, 1)


def state_dict(module: torch.nn.Module, prefix: str = "") -> dict[str, torch.Tensor]:
    return {prefix + k: v for k, v in module.state_dict().items()}


def save(path: Path, tensors: dict[str, torch.Tensor]) -> None:
    """safetensors: floating tensors as F32, integer ones as they are (I64); keys sorted by the library."""
    out = {}
    for key, t in tensors.items():
        t = t.detach()
        out[key] = (t.to(torch.float32) if t.is_floating_point() else t).contiguous().clone()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(out, str(path))


SD15_CONFIGS = Path(__file__).resolve().parents[1] / "alignprop_torch" / "sd15"


def sd15_config(component: str) -> dict:
    """Stable Diffusion 1.5's published config of `component` (the repo's one copy, also used by the GPU check)."""
    return json.loads((SD15_CONFIGS / f"{component}.config.json").read_text())


def write_json(path: Path, value: object, compact: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(value, separators=(",", ":")) if compact else json.dumps(value, indent=2) + "\n"
    path.write_text(text)


def write_keys(path: Path, module: torch.nn.Module, header: str, prefix: str = "") -> None:
    """`key<TAB>shape` for every state-dict entry, after `#` header lines (test/helpers/fixtures.ts reads these)."""
    sd = state_dict(module, prefix)
    count = sum(t.numel() for t in sd.values())
    lines = [f"# {line}" for line in header.splitlines()]
    lines.append(f"# {len(sd)} tensors, {count} parameters. Columns: key<TAB>shape")
    lines += [f"{key}\t{','.join(str(s) for s in t.shape)}" for key, t in sd.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
