"""The evaluation inside a torch run (src/trainer/run-evaluation.ts): after step 0 (the base model), every
`eval_freq` steps and after the last step, one pass of the eval set (alignprop_torch.eval), its samples saved under
images/eval/step-<N>/ and published with the monitors' values as an `eval` event; with `best_metric`, a new best
writes best/pytorch_lora_weights.safetensors, then best/best.json, and is announced as a checkpoint with reason
"best". A resumed run reads back the base samples (for drift) and the best so far."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alignprop_torch.eval.best import BestEval, BestTracker
from alignprop_torch.eval.evaluator import Evaluator
from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.png import encode_png, read_png
from alignprop_torch.run_dir import CAPTIONS_FILE, eval_images_dir, write_file_atomic, write_step_images
from alignprop_torch.trainer.run_loop import LoggedImages, image_batch

BEST_DIR = "best"
BEST_FILE = "best.json"


@dataclass(frozen=True)
class EvalSettings:
    """The resolved config's evaluation fields (the TS CLI resolves the model's defaults into config.json)."""

    freq: int
    prompts: list[str]
    seeds: list[int]
    monitors: list[str]
    batch_size: int
    best_metric: str
    best_min_fidelity: float | None

    @classmethod
    def from_config(cls, raw: dict[str, Any]) -> EvalSettings:
        return cls(
            freq=int(raw.get("eval_freq") or 0),
            prompts=list(raw.get("eval_prompts", [])),
            seeds=[int(s) for s in raw.get("eval_seeds", [])],
            monitors=list(raw.get("eval_monitors", [])),
            batch_size=int(raw.get("per_device_eval_batch_size", 16)),
            best_metric=str(raw.get("best_metric", "")),
            best_min_fidelity=raw.get("best_min_fidelity"),
        )


class RunEvaluation:
    def __init__(
        self,
        evaluator: Evaluator,
        settings: EvalSettings,
        total_steps: int,
        run_dir: Path,
        save_lora: Callable[[Path], None],
        resumed: bool,
    ) -> None:
        """`save_lora(folder)` writes the current LoRA as `folder`/pytorch_lora_weights.safetensors."""
        self.evaluator, self.s, self.total_steps, self.run_dir, self.save_lora = (
            evaluator,
            settings,
            total_steps,
            run_dir,
            save_lora,
        )
        self.best: BestTracker | None = None
        if settings.best_metric:
            previous = read_best(run_dir / BEST_DIR / BEST_FILE) if resumed else None
            kept = previous if previous is not None and previous.metric == settings.best_metric else None
            self.best = BestTracker(settings.best_metric, settings.best_min_fidelity, kept)
        if resumed:
            base = read_eval_images(run_dir, 0)
            if base is not None:
                evaluator.use_base(base)

    def due(self, step: int) -> bool:
        return step % self.s.freq == 0 or step == self.total_steps

    def run(self, step: int, publish: Callable[[Any], None]) -> None:
        outcome = self.evaluator.evaluate(step)
        samples = outcome.samples
        logged = LoggedImages(
            pngs=[encode_png(image) for image in outcome.images],
            width=outcome.images.shape[2],
            height=outcome.images.shape[1],
            prompts=[s.prompt for s in samples],
            prompt_metadata=[dict(s.metadata) for s in samples],
            rewards=outcome.rewards,
        )
        seeds = [s.seed for s in samples]
        paths = write_step_images(
            self.run_dir, step, logged.pngs, logged.prompts, logged.prompt_metadata, logged.rewards, seeds
        )
        images = image_batch(step, logged, paths)
        publish(pb.EvalResult(step=step, monitors=outcome.monitors, images=images, seeds=seeds))
        if self.best is not None and self.best.consider(step, outcome.monitors):
            self.save_best(self.best.best, publish)  # type: ignore[arg-type]

    def save_best(self, best: BestEval, publish: Callable[[Any], None]) -> None:
        folder = self.run_dir / BEST_DIR
        folder.mkdir(exist_ok=True)
        # The weights first: best.json never names weights that are not there yet.
        self.save_lora(folder)
        write_file_atomic(folder / BEST_FILE, (json.dumps(best.to_json(), indent=2) + "\n").encode("utf-8"))
        publish(pb.CheckpointSaved(step=best.step, epoch=max(0, best.step - 1), path=str(folder), reason="best"))


def read_best(path: Path) -> BestEval | None:
    """The best so far of the run being resumed; None when it kept none yet."""
    if not path.is_file():
        return None
    raw = json.loads(path.read_text(encoding="utf-8"))
    return BestEval(int(raw["step"]), str(raw["metric"]), float(raw["value"]), dict(raw["monitors"]))


def read_eval_images(run_dir: Path, step: int) -> np.ndarray | None:
    """The eval samples saved after `step` steps, uint8 [N, H, W, 3] in caption order; None when there are none (or
    one is unreadable)."""
    folder = run_dir / eval_images_dir(step)
    try:
        captions = json.loads((folder / CAPTIONS_FILE).read_text(encoding="utf-8"))
        return np.stack([read_png(folder / c["file"]) for c in captions])
    except (OSError, ValueError, KeyError):
        return None


def open_run_evaluation(
    raw: dict[str, Any],
    trainer: Any,
    run_dir: Path,
    save_lora: Callable[[Path], None],
    resumed: bool,
) -> RunEvaluation | None:
    """The run's evaluation (a LoraTrainer `trainer`, its reward the training one); None when eval_freq is 0."""
    s = EvalSettings.from_config(raw)
    if s.freq <= 0:
        return None
    evaluator = Evaluator(trainer, trainer.reward, s.prompts, s.seeds, s.monitors, s.batch_size)
    return RunEvaluation(evaluator, s, int(raw["num_epochs"]), run_dir, save_lora, resumed)
