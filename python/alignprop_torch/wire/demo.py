"""A scripted run behind the real wire: `python -m alignprop_torch.wire.demo --config <run>/config.json --control …
--events … --observe … [--step-ms 5]` takes the trainer's arguments (spawnTrainer can start it) and runs the trainer
process's loop (alignprop_torch.trainer) on a job whose "training" is a wait of `--step-ms` and numbers that are a
function of the step: statuses, metrics every step, image batches every `log_image_freq` steps, checkpoint events
every `save_freq` steps and at the end (no files: a checkpoint is only its event here), pause, resume,
checkpoint_now, stop, SIGINT and SIGTERM. It lets the TS bridge tests drive the Python wire without loading a model."""

from __future__ import annotations

import io
import json
import math
import time
from pathlib import Path

from PIL import Image

from alignprop_torch.trainer.args import trainer_arg_parser, trainer_args
from alignprop_torch.trainer.process import exit_with, run_trainer
from alignprop_torch.trainer.run_loop import LoggedImages, RunSettings, StepOutcome

AGENT = "alignprop-trainer-demo/0.1.0 (python)"


def tiny_png(step: int, index: int) -> bytes:
    image = Image.new("RGB", (8, 8), ((step * 40) % 256, (index * 90) % 256, 128))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class ScriptedJob:
    def __init__(self, batch: int, step_s: float) -> None:
        self.batch, self.step_s, self.steps = batch, step_s, 0

    def step(self, keep_images: bool) -> StepOutcome:
        time.sleep(self.step_s)
        self.steps += 1
        rewards = [math.tanh(self.steps / 50) + 0.01 * i for i in range(self.batch)]
        images = None
        if keep_images:
            pngs = [tiny_png(self.steps, i) for i in range(self.batch)]
            prompts = [f"demo prompt {i}" for i in range(self.batch)]
            images = LoggedImages(pngs, 8, 8, prompts, [{"index": i} for i in range(self.batch)], rewards)
        return StepOutcome(loss=-sum(rewards) / self.batch, rewards=rewards, grad_norm=0.5, lr=1e-3, images=images)


def main() -> int:
    parser = trainer_arg_parser("python -m alignprop_torch.wire.demo")
    parser.add_argument("--step-ms", type=float, default=5.0, help="how long each scripted step takes")
    ns = parser.parse_args()
    args = trainer_args(ns)
    config = json.loads(args.config.read_text(encoding="utf-8"))
    settings = RunSettings(
        total_steps=int(config["num_epochs"]),
        log_image_freq=int(config.get("log_image_freq", 1)),
        save_freq=int(config.get("save_freq", 1)),
        backend="scripted demo (no model)",
        description=f"the scripted demo run ({AGENT})",
    )
    checkpoints = Path(args.config).parent.resolve() / "checkpoints"
    return run_trainer(
        args,
        AGENT,
        settings,
        lambda _progress: ScriptedJob(int(config.get("train_batch_size", 1)), ns.step_ms / 1000),
        lambda step, reason: str(checkpoints / f"checkpoint_{step}"),
    )


if __name__ == "__main__":
    exit_with(main)
