"""The PyTorch trainer process: `python -m alignprop_torch.trainer --config <run dir>/config.json --control <e>
--events <e> --observe <e> [--server-key <dir> --allow <path>... --allow-observer <path>...]`, the arguments of
src/trainer/main.ts. Binds the wire, prints the ready line, loads the pipeline while STARTING (commands are answered
meanwhile), trains AlignProp (alignprop_torch.alignprop) step by step under the run loop, and exits 0 when DONE,
1 when FAILED. Checkpoints and `--resume` wait for the run directory's documented checkpoint format (src/run/)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import torch
from PIL import Image

from alignprop_torch.config import AlignPropConfig
from alignprop_torch.trainer.args import trainer_arg_parser, trainer_args
from alignprop_torch.trainer.process import exit_with, run_trainer
from alignprop_torch.trainer.run_loop import LoggedImages, RunSettings, StepOutcome

if TYPE_CHECKING:
    from alignprop_torch.alignprop import AlignProp

AGENT = f"alignprop-trainer/0.1.0 (python, torch {torch.__version__})"


def png(image: torch.Tensor) -> bytes:
    """[3, H, W] in [0, 1] → PNG bytes."""
    pixels = (image.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()  # [H, W, 3]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


class AlignPropJob:
    def __init__(self, alignprop: AlignProp) -> None:
        self.alignprop = alignprop

    @classmethod
    def load(cls, config: AlignPropConfig, device: torch.device) -> AlignPropJob:
        """Loads the pipeline and attaches LoRA (diffusers, transformers, peft: imported here, after the ready line)."""
        from alignprop_torch.build import build_alignprop

        return cls(build_alignprop(config, device))

    def step(self, keep_images: bool) -> StepOutcome:
        r = self.alignprop.step(keep_images=keep_images)
        images = None
        if r.images is not None:
            batch = r.images.images  # [B, 3, H, W]
            images = LoggedImages(
                pngs=[png(image) for image in batch],
                width=batch.shape[3],
                height=batch.shape[2],
                prompts=r.images.prompts,
                prompt_metadata=r.images.prompt_metadata,
                rewards=r.images.rewards,
            )
        return StepOutcome(loss=r.loss, rewards=r.rewards, grad_norm=r.grad_norm, lr=r.lr, images=images)


def main() -> int:
    args = trainer_args(trainer_arg_parser("python -m alignprop_torch.trainer").parse_args())
    if args.resume is not None:
        raise ValueError(f"--resume {args.resume}: the torch engine cannot resume yet (no checkpoint format for it)")
    raw = json.loads(args.config.read_text(encoding="utf-8"))
    config = AlignPropConfig.from_dict(raw)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    settings = RunSettings(
        total_steps=int(raw["num_epochs"]),
        log_image_freq=int(raw.get("log_image_freq", 1)),
        save_freq=int(raw.get("save_freq", 1)),
        backend=f"torch {torch.__version__} on {device}",
        description=f"AlignProp on {config.model}",
        warnings=args.warnings,
    )
    return run_trainer(args, AGENT, settings, lambda: AlignPropJob.load(config, device))


if __name__ == "__main__":
    exit_with(main)
