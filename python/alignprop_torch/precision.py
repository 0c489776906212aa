"""Mixed precision as TRL ran it under accelerate: the frozen networks' weights in fp16 or bf16, the LoRA weights in
float32, the forward passes under autocast, fp16 losses scaled against underflow (torch's GradScaler, what accelerate
uses). CPUs train in float32 whatever the config says. `allow_tf32` sets torch's TF32 switches for matmul and cuDNN.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from .config import MixedPrecision

DTYPES: dict[MixedPrecision, torch.dtype] = {"no": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


@dataclass(frozen=True)
class Precision:
    device: torch.device
    mixed_precision: MixedPrecision

    @classmethod
    def for_device(cls, device: torch.device, mixed_precision: MixedPrecision, allow_tf32: bool) -> Precision:
        if device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = allow_tf32
            torch.backends.cudnn.allow_tf32 = allow_tf32
            return cls(device, mixed_precision)
        return cls(device, "no")

    @property
    def weight_dtype(self) -> torch.dtype:
        """The dtype of the frozen weights (UNet, VAE, text encoder)."""
        return DTYPES[self.mixed_precision]

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        if self.mixed_precision == "no":
            yield
            return
        with torch.autocast(self.device.type, dtype=self.weight_dtype):
            yield

    def grad_scaler(self) -> torch.amp.GradScaler:
        """Enabled for fp16 only: bf16 has float32's exponent range."""
        return torch.amp.GradScaler(self.device.type, enabled=self.mixed_precision == "fp16")
