"""`log_with: "tensorboard" | "wandb"` on the torch engine, through accelerate's trackers as TRL's AlignPropTrainer fed
them: an `Accelerator(log_with=..., project_config=ProjectConfiguration(**project_kwargs), **accelerator_kwargs)`,
`init_trackers(project, config=..., init_kwargs=tracker_kwargs)`, every step's scalars with `accelerator.log(...,
step=step)`, the logged images through the tracker (TRL's image hook did that) captioned TRL's way
`<prompt:.25> | <reward:.2f>`, and `end_training()` when the run ends, whichever way.

Where things go matches the TF.js engine (src/io/tensorboard/run-log.ts): the project directory is `logdir` (unless
`project_kwargs` says otherwise), TensorBoard writes `<logdir>/<run name>/`, and wandb writes its `wandb/` folder in
`logdir` for the project `tracker_project_name`, naming the run after the run directory. The scalars are the TF.js
writer's, named as there. A resumed run's TensorBoard writer purges what an earlier process logged from the resumed
step on (`purge_step`, the SessionLog START the TF.js writer writes too), so each step shows once; wandb starts a new
run (steps in one wandb run only go up). `tracker_kwargs[log_with]` overrides every default set here.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.run_loop import TrainingError

if TYPE_CHECKING:
    from accelerate import Accelerator

LogWith = Literal["tensorboard", "wandb"]


def metric_scalars(m: pb.Metrics) -> dict[str, float]:
    """One Metrics event's scalars, named as src/io/tensorboard/run-log.ts's metricScalars names them (TRL's names),
    with the algorithm's own Metrics.scalars (DDPO's approx_kl, clip_fraction) under their own names."""
    return {
        "loss": m.loss,
        "reward_mean": m.reward_mean,
        "reward_std": m.reward_std,
        "reward_min": m.reward_min,
        "reward_max": m.reward_max,
        "grad_norm": m.grad_norm,
        "lr": m.lr,
        "epoch": m.epoch,
        "samples_per_second": m.samples_per_second,
        "step_seconds": m.step_seconds,
        **m.scalars,
    }


def image_caption(prompt: str, reward: float) -> str:
    """TRL's caption, f"{prompt:.25} | {reward:.2f}" (run-log.ts's imageTag)."""
    return f"{prompt:.25} | {reward:.2f}"


def hparams(config: Mapping[str, Any]) -> dict[str, bool | int | float | str | None]:
    """The run config as TensorBoard's hparams take it (scalars only): lists and objects as their JSON."""
    scalar = (bool, int, float, str, type(None))
    return {k: v if isinstance(v, scalar) else json.dumps(v) for k, v in config.items()}


@dataclass(frozen=True)
class TrackerSettings:
    """The run-config fields that pick and set up the tracker (TRL's names)."""

    log_with: LogWith
    logdir: str
    tracker_project_name: str
    tracker_kwargs: dict[str, Any]
    accelerator_kwargs: dict[str, Any]
    project_kwargs: dict[str, Any]

    @classmethod
    def from_config(cls, raw: Mapping[str, Any]) -> TrackerSettings | None:
        """None when the resolved config asks for no tracker (`log_with` "")."""
        if not raw.get("log_with"):
            return None
        return cls(
            log_with=raw["log_with"],
            logdir=str(raw.get("logdir", "logs")),
            tracker_project_name=str(raw.get("tracker_project_name", "trl")),
            tracker_kwargs=dict(raw.get("tracker_kwargs") or {}),
            accelerator_kwargs=dict(raw.get("accelerator_kwargs") or {}),
            project_kwargs=dict(raw.get("project_kwargs") or {}),
        )


class RunTracker:
    """Feeds one run's events to accelerate's tracker. `start` (in the trainer's STARTING state: it imports accelerate
    and, for wandb, starts its service) comes before the first step; `write` takes every event the run publishes and
    logs the metrics and image batches; `end` finishes the tracker."""

    def __init__(self, settings: TrackerSettings, run_name: str, config: Mapping[str, Any], resumed_at: int | None):
        """`resumed_at`: the checkpoint step a resumed run continues from (None for a new run)."""
        self.s, self.run_name, self.config, self.resumed_at = settings, run_name, config, resumed_at
        self.accelerator: Accelerator | None = None

    def start(self) -> None:
        from accelerate import Accelerator
        from accelerate.utils import ProjectConfiguration

        s = self.s
        try:
            project = ProjectConfiguration(**{"project_dir": str(Path(s.logdir).resolve()), **s.project_kwargs})
            accelerator = Accelerator(log_with=s.log_with, project_config=project, **s.accelerator_kwargs)
            logging_dir = Path(accelerator.logging_dir)
            logging_dir.mkdir(parents=True, exist_ok=True)
            own = s.tracker_kwargs.get(s.log_with, {})
            if s.log_with == "tensorboard":
                # TensorBoardTracker writes <logging_dir>/<project name>: the run's name there, as the TF.js engine.
                resumed = {} if self.resumed_at is None else {"purge_step": self.resumed_at + 1}
                project_name, config, kwargs = self.run_name, hparams(self.config), {**resumed, **own}
            else:
                project_name, config = s.tracker_project_name, dict(self.config)
                kwargs = {"name": self.run_name, "dir": str(logging_dir), **own}
            accelerator.init_trackers(project_name, config=config, init_kwargs={**s.tracker_kwargs, s.log_with: kwargs})
        except Exception as err:  # a bad kwarg, an unreachable or unconfigured wandb: the run cannot log as asked
            raise TrainingError(
                f'log_with="{s.log_with}": accelerate\'s tracker could not start ({type(err).__name__}: {err}); '
                "check tracker_kwargs, accelerator_kwargs and project_kwargs"
                + (", and `wandb login` or WANDB_MODE=offline" if s.log_with == "wandb" else "")
            ) from err
        self.accelerator = accelerator

    def general_tracker(self) -> Any:
        """accelerate's tracker for log_with (a GeneralTracker), as TRL handed it to image hooks; None before start."""
        return None if self.accelerator is None else self.accelerator.get_tracker(self.s.log_with)

    def write(self, event: pb.Event) -> None:
        if self.accelerator is None:
            return
        case = event.WhichOneof("payload")
        if case == "metrics":
            self.accelerator.log(metric_scalars(event.metrics), step=event.metrics.step)
        elif case == "eval":
            # The monitors under eval/, beside the training curves, as src/io/tensorboard/run-log.ts logs them.
            monitors = {f"eval/{name}": value for name, value in event.eval.monitors.items()}
            self.accelerator.log(monitors, step=event.eval.step)
        elif case == "images" and not event.images.pixels_dropped:
            self.log_images(event.images)

    def log_images(self, batch: pb.ImageBatch) -> None:
        assert self.accelerator is not None
        tracker = self.accelerator.get_tracker(self.s.log_with)
        captioned = [
            (image_caption(im.prompt, im.reward), Image.open(io.BytesIO(im.png)).convert("RGB"))
            for im in batch.images
            if im.png
        ]
        if not captioned:
            return
        if self.s.log_with == "wandb":
            import wandb

            images = [wandb.Image(picture, caption=caption) for caption, picture in captioned]
            tracker.log({"images": images}, step=batch.step)
            return
        by_caption: dict[str, list[np.ndarray]] = {}
        for caption, picture in captioned:
            by_caption.setdefault(caption, []).append(np.asarray(picture))  # [H, W, 3] uint8
        tracker.log_images({c: np.stack(p) for c, p in by_caption.items()}, step=batch.step, dataformats="NHWC")
        tracker.tracker.flush()

    def end(self) -> None:
        if self.accelerator is None:
            return
        self.accelerator.end_training()
        self.accelerator = None
        if self.s.log_with == "wandb":
            import wandb

            # wandb's service process writes the run's files after finish() returns; teardown waits for it, so the
            # files are complete once the trainer ends (its atexit hook would do the same, later and less surely).
            wandb.teardown()
