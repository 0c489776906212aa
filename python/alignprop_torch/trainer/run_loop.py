"""The run loop of a trainer process (the Python side of src/trainer/trainer.ts): runs a job step by step, publishes
status, metrics, images and checkpoint events through the wire, appends every event to events.jsonl, and obeys
commands while loading (alignprop_torch.trainer.loading) and at step boundaries: pause waits without CPU, stop
finishes the step, saves and ends DONE; a non-finite loss or reward ends FAILED with an error event naming the last
good checkpoint."""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.run_dir import NonFiniteTensor, write_step_images
from alignprop_torch.trainer.loading import load_unless_stopped
from alignprop_torch.trainer.progress import ProgressListener
from alignprop_torch.trainer.run_control import RunControl
from alignprop_torch.wire.server import TrainerServer

if TYPE_CHECKING:
    import torch


@dataclass
class LoggedImages:
    """One step's images, PNG-encoded, with what was asked for and how each scored."""

    pngs: list[bytes]
    width: int
    height: int
    prompts: list[str]
    prompt_metadata: list[dict[str, Any]]
    rewards: list[float]
    #: The images as sampled, [B, 3, H, W] in [0, 1] on the CPU (what the image hook gets).
    pixels: torch.Tensor | None = None


#: What the run loop calls after a logged batch is written and published: (step, images, their run-dir paths).
ImageHook = Callable[[int, LoggedImages, list[str]], None]


@dataclass
class StepOutcome:
    loss: float
    rewards: list[float]
    grad_norm: float
    lr: float
    images: LoggedImages | None = None
    #: Algorithm-specific numbers by name (TRL's), sent as Metrics.scalars.
    extra: dict[str, float] = field(default_factory=dict)


def image_batch(step: int, logged: LoggedImages, paths: list[str]) -> pb.ImageBatch:
    """The ImageBatch of written images: each with its PNG, prompt, metadata, reward and run-dir path."""
    images = [
        pb.Image(
            png=png,
            prompt=prompt,
            prompt_metadata_json=json.dumps(metadata, ensure_ascii=False, separators=(",", ":")),
            reward=reward,
            width=logged.width,
            height=logged.height,
            path=path,
        )
        for png, prompt, metadata, reward, path in zip(
            logged.pngs, logged.prompts, logged.prompt_metadata, logged.rewards, paths, strict=True
        )
    ]
    return pb.ImageBatch(step=step, images=images)


class Evaluation(Protocol):
    """The evaluation during training (trainer/run_evaluation.py): `run(step, publish)` after step 0 of a fresh run,
    then whenever `due(step)`."""

    def due(self, step: int) -> bool: ...

    def run(self, step: int, publish: Callable[[Any], None]) -> None: ...


class Job(Protocol):
    """A job may also have `image_hook(step, images, paths)`, called after each logged batch is written and
    published (the config's `image_hook`, alignprop_torch.user_modules); a hook that raises is a warning; and
    `evaluation` (an Evaluation, or None), run after the step's images and before its checkpoint."""

    def step(self, keep_images: bool) -> StepOutcome: ...


class TrainingError(Exception):
    """A failure the run can explain in one sentence (not a bug): reported without a stack trace."""


@dataclass
class RunSettings:
    total_steps: int
    log_image_freq: int
    save_freq: int
    backend: str
    description: str
    #: Config fields this engine cannot honour, one sentence each (the CLI's `--warning`s): published at start.
    warnings: tuple[str, ...] = ()
    #: Processes training the run together (data parallel); every Status says so.
    world_size: int = 1


class RunLoop:
    def __init__(
        self,
        job_factory: Callable[[ProgressListener], Job],
        settings: RunSettings,
        server: TrainerServer,
        control: RunControl,
        run_dir: Path,
        save_checkpoint: Callable[[int, int], str] | None,
    ) -> None:
        """`job_factory(progress)` loads the model, reporting to `progress` (the run is STARTING meanwhile, and answers
        commands); `save_checkpoint(step,
        seq)` writes a checkpoint whose CheckpointSaved event will have `seq` and returns its path (None: no saves)."""
        self.job_factory, self.s, self.server, self.control, self.run_dir = (
            job_factory,
            settings,
            server,
            control,
            run_dir,
        )
        self.save_checkpoint = save_checkpoint
        self.last_saved = -1
        #: A stop came while loading: the loader thread still runs, abandoned.
        self.load_abandoned = False

    def run(self) -> int:
        """Runs to the end; returns the process exit code."""
        try:
            self.announce(f"starting {self.s.description} on {self.s.backend}")
            for message in self.s.warnings:
                self.publish(pb.Log(level=pb.LOG_LEVEL_WARN, message=message))
            job = load_unless_stopped(self.job_factory, self.control, self.publish)
            if job is None:
                self.load_abandoned = True
                self.transition(pb.RUN_STATE_STOPPING, "stop requested while loading")
                self.transition(pb.RUN_STATE_DONE, f"stopped before step {self.control.step + 1}: nothing was trained")
                return 0
            self.transition(pb.RUN_STATE_RUNNING, f"training {self.s.total_steps} steps")
            evaluation: Evaluation | None = getattr(job, "evaluation", None)
            if evaluation is not None and self.control.step == 0:
                evaluation.run(0, self.publish)
            while self.control.step < self.s.total_steps and not self.control.stop_requested:
                self.control.boundary(self.checkpoint, self.announce)
                if self.control.stop_requested:
                    break
                self.train_one_step(job, evaluation)
            stopped = self.control.stop_requested
            self.transition(
                pb.RUN_STATE_STOPPING, f"stop requested at step {self.control.step}" if stopped else "all steps done"
            )
            if self.last_saved != self.control.step:
                self.checkpoint("final")
            self.transition(pb.RUN_STATE_DONE, f"finished at step {self.control.step}/{self.s.total_steps}")
            return 0
        except Exception as err:  # an expected failure is its message; anything else a bug: its type too
            message = str(err) if isinstance(err, TrainingError) else f"{type(err).__name__}: {err}"
            sys.stderr.write(f"run failed: {message}\n")
            self.publish(pb.Error(message=message, source="trainer"))
            if self.control.state != pb.RUN_STATE_FAILED:
                self.transition(pb.RUN_STATE_FAILED, message)
            return 1

    def train_one_step(self, job: Job, evaluation: Evaluation | None = None) -> None:
        step = self.control.step + 1
        started = time.perf_counter()
        outcome = job.step(keep_images=step % self.s.log_image_freq == 0)
        seconds = time.perf_counter() - started
        self.control.step = step
        self.check_finite(outcome)
        # The PNGs are on disk before any client hears of the step; metrics and images then go out back to back.
        logged = outcome.images
        paths = None if logged is None else self.write_images(logged)
        self.publish_metrics(outcome, seconds)
        if logged is not None and paths is not None:
            self.publish_images(logged, paths)
            self.call_image_hook(getattr(job, "image_hook", None), logged, paths)
        if evaluation is not None and evaluation.due(step):
            evaluation.run(step, self.publish)
        if step % self.s.save_freq == 0 and step < self.s.total_steps:
            self.checkpoint("save_freq")

    def check_finite(self, o: StepOutcome) -> None:
        step = self.control.step
        # JavaScript's names for the non-finite numbers, so both engines' messages read the same.
        bad = f"loss is {'NaN' if math.isnan(o.loss) else 'Infinity' if o.loss > 0 else '-Infinity'}"
        bad = bad if not math.isfinite(o.loss) else ""
        bad = bad or ("a reward is not finite" if not all(math.isfinite(r) for r in o.rewards) else "")
        if bad:
            raise TrainingError(
                f"{bad} at step {step}: training diverged (try a lower train_learning_rate or train_max_grad_norm); "
                + self.kept()
            )

    def publish_metrics(self, o: StepOutcome, seconds: float) -> None:
        step = self.control.step
        n = len(o.rewards)
        mean = sum(o.rewards) / n
        self.publish(
            pb.Metrics(
                step=step,
                epoch=step - 1,
                loss=o.loss,
                reward_mean=mean,
                reward_std=math.sqrt(sum((r - mean) ** 2 for r in o.rewards) / n),
                reward_min=min(o.rewards),
                reward_max=max(o.rewards),
                grad_norm=o.grad_norm,
                lr=o.lr,
                step_seconds=seconds,
                samples_per_second=n / seconds if seconds > 0 else 0.0,
                scalars=o.extra,
            )
        )

    def write_images(self, logged: LoggedImages) -> list[str]:
        return write_step_images(
            self.run_dir, self.control.step, logged.pngs, logged.prompts, logged.prompt_metadata, logged.rewards
        )

    def publish_images(self, logged: LoggedImages, paths: list[str]) -> None:
        self.publish(image_batch(self.control.step, logged, paths))

    def call_image_hook(self, hook: ImageHook | None, logged: LoggedImages, paths: list[str]) -> None:
        if hook is None:
            return
        try:
            hook(self.control.step, logged, paths)
        except Exception as err:  # the user's code: its failure is theirs to see, not the run's end
            message = f"image_hook failed at step {self.control.step}: {type(err).__name__}: {err}"
            self.publish(pb.Log(level=pb.LOG_LEVEL_WARN, message=message))

    def checkpoint(self, reason: str) -> None:
        """Saves. A failed save (disk full, unwritable run dir) is reported and training goes on — the previous
        checkpoint is untouched (saves are atomic) and the next save tries again — except the final save, whose
        failure fails the run. Non-finite weights or optimizer moments fail the run and are never saved."""
        if self.save_checkpoint is None:
            return
        step = self.control.step
        try:
            path = self.save_checkpoint(step, self.server.last_seq + 1)
        except NonFiniteTensor as err:
            raise TrainingError(
                f'"{err.key}" is not finite after step {step}: training diverged (try a lower train_learning_rate or '
                f"train_max_grad_norm); {self.kept()}"
            ) from err
        except OSError as err:
            message = f"checkpoint at step {step} ({reason}) could not be saved: {err}"
            if reason == "final":
                raise TrainingError(message) from err
            message += "; training continues, the previous checkpoint is intact"
            self.publish(pb.Error(message=message, source="checkpoint"))
            return
        self.last_saved = step
        self.publish(pb.CheckpointSaved(step=step, epoch=max(0, step - 1), path=path, reason=reason))

    def kept(self) -> str:
        if self.last_saved > 0:
            return f"the last good checkpoint is kept (step {self.last_saved})"
        return "no checkpoint had been saved yet"

    def transition(self, state: pb.RunState.ValueType, message: str) -> None:
        self.control.to(state)
        self.announce(message)

    def announce(self, message: str) -> None:
        step = self.control.step
        self.publish(
            pb.Status(
                state=self.control.state,
                step=step,
                total=self.s.total_steps,
                epoch=max(0, step - 1),
                backend=self.s.backend,
                message=message,
                run_dir=str(self.run_dir),
                world_size=self.s.world_size,
            )
        )

    def publish(self, payload) -> None:
        """Through the server, which has events.jsonl record each event before a socket can carry it."""
        self.server.publish(payload)
