"""The PyTorch trainer process: `python -m alignprop_torch.trainer --config <run dir>/config.json --control <e>
--events <e> --observe <e> [--server-key <dir> --allow <path>... --allow-observer <path>...]`, the arguments of
src/trainer/main.ts. Binds the wire, prints the ready line, loads the pipeline while STARTING (commands are answered
meanwhile), trains the config's `algorithm` (alignprop_torch.alignprop or .ddpo) step by step under the run loop, and
exits 0 when DONE, 1 when FAILED. Writes the run directory as src/run/README.md documents it
(alignprop_torch.run_dir): events, images, atomic checkpoints pruned to num_checkpoint_limit, diffusers' LoRA file;
`--resume <checkpoint dir>` trims events.jsonl to the checkpoint and continues from its step. Under `accelerate launch`
(num_processes > 1) each rank runs this module: rank 0 as above, the others beside it (trainer/data_parallel.py,
alignprop_torch/distributed.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from alignprop_torch.config import AlignPropConfig, DDPOConfig, run_config
from alignprop_torch.distributed import Ranks, join_ranks, resumed_generator
from alignprop_torch.png import encode_png, to_8bit
from alignprop_torch.run_dir import read_checkpoint_state, trim_events_log
from alignprop_torch.trainer.args import trainer_arg_parser, trainer_args
from alignprop_torch.trainer.data_parallel import write_on_rank_0
from alignprop_torch.trainer.process import exit_with, run_trainer
from alignprop_torch.trainer.progress import ProgressListener, component_loading
from alignprop_torch.trainer.run_evaluation import RunEvaluation, open_run_evaluation
from alignprop_torch.trainer.run_loop import ImageHook, LoggedImages, RunSettings, StepOutcome
from alignprop_torch.trainer.trackers import RunTracker, TrackerSettings

if TYPE_CHECKING:
    from alignprop_torch.lora_trainer import LoraTrainer
    from alignprop_torch.run_dir_checkpoint import CheckpointState

AGENT = f"alignprop-trainer/0.1.0 (python, torch {torch.__version__})"


def png(image: torch.Tensor) -> bytes:
    """[3, H, W] in [0, 1] → PNG bytes."""
    return encode_png(to_8bit(image[None])[0])


class TrainingJob:
    def __init__(self, trainer: LoraTrainer, image_hook: ImageHook | None = None, ranks: Ranks | None = None) -> None:
        self.trainer = trainer
        self.image_hook = image_hook
        self.ranks = ranks or Ranks()
        self.evaluation: RunEvaluation | None = None

    @classmethod
    def load(
        cls,
        config: AlignPropConfig,
        device: torch.device,
        resume: Path | None,
        run_dir: Path,
        tracker: RunTracker | None,
        ranks: Ranks,
        progress: ProgressListener,
    ) -> TrainingJob:
        """Loads the pipeline and attaches LoRA (diffusers, transformers, peft: imported here, after the ready line),
        builds DDPO for a DDPOConfig and AlignProp otherwise, loads the image hook (handed `tracker`'s accelerate
        tracker), then restores the checkpoint `resume` names, with this rank's generator; each component loaded is
        reported to `progress`."""
        from alignprop_torch.build import LOADED_COMPONENTS, build_for
        from alignprop_torch.hub_download import fetch_pipeline, is_hub_download
        from alignprop_torch.user_modules import load_image_hook

        if is_hub_download(config.model):  # diffusers' from_pretrained reports no bytes: fetch with progress first
            fetch_pipeline(config.model, progress)
        general_tracker = (lambda: None) if tracker is None else tracker.general_tracker
        hook = load_image_hook(config.image_hook, run_dir, general_tracker) if config.image_hook else None
        job = cls(build_for(config, device, ranks, component_loading(progress, LOADED_COMPONENTS)), hook, ranks)
        if resume is not None:
            job.restore(resume, config.seed)
        return job

    def restore(self, checkpoint: Path, seed: int) -> None:
        """Restores the checkpoint's weights, optimizer and this rank's generator (reseeded for another world size)."""
        from alignprop_torch.run_dir_checkpoint import load_checkpoint

        a = self.trainer
        loaded = load_checkpoint(checkpoint, a.lora_names, a.training_state(), a.extra_prefixes)
        training = loaded["training"]
        training["generator"] = resumed_generator(training["rank_generators"], seed, loaded["step"], self.ranks)
        a.restore(training)

    def save(self, run_dir: Path, state: CheckpointState, config: AlignPropConfig, limit: int) -> str:
        """checkpoint_<step> with every rank's generator (all ranks call this; rank 0 writes), then
        pytorch_lora_weights.safetensors from the same weights."""
        from alignprop_torch.run_dir_checkpoint import export_lora, save_checkpoint

        a = self.trainer
        training = a.training_state()
        training["rank_generators"] = self.ranks.gather(training["generator"])

        def write() -> str:
            path = save_checkpoint(run_dir, state, a.lora_names, training, limit)
            export_lora(run_dir, a.lora_names, training["lora"], config)
            return str(path)

        return write_on_rank_0(self.ranks, write)

    def export_to(self, folder: Path) -> None:
        """The current LoRA as `folder`/pytorch_lora_weights.safetensors (the best evaluation's weights)."""
        from alignprop_torch.run_dir_checkpoint import export_lora

        a = self.trainer
        lora = {name: p.detach().cpu() for name, p in zip(a.lora_names, a.params, strict=True)}
        export_lora(folder, a.lora_names, lora, a.config)

    def step(self, keep_images: bool) -> StepOutcome:
        r = self.trainer.step(keep_images=keep_images)
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
                pixels=batch,
            )
        return StepOutcome(
            loss=r.loss, rewards=r.rewards, grad_norm=r.grad_norm, lr=r.lr, images=images, extra=r.scalars
        )


def main() -> int:
    args = trainer_args(trainer_arg_parser("python -m alignprop_torch.trainer").parse_args())
    raw = json.loads(args.config.read_text(encoding="utf-8"))
    config = run_config(raw)
    ranks = join_ranks()
    device = ranks.device()
    run_dir = args.config.parent.resolve()
    start_step, start_seq, warnings = 0, 0, args.warnings
    if args.resume is not None:  # refused before binding when the checkpoint is another engine's
        resumed = read_checkpoint_state(args.resume)
        start_step, start_seq = resumed["step"], resumed["seq"]
        saved_world = resumed["rngState"].get("worldSize", 1)
        if saved_world != ranks.world_size:
            warnings += (
                f"resuming a checkpoint of {saved_world} process(es) on {ranks.world_size}: weights and optimizer "
                "carry over, each rank's random draws are reseeded, so the run does not repeat the original exactly",
            )
        if ranks.leads:
            trim_events_log(run_dir, start_seq)
    settings = RunSettings(
        total_steps=int(raw["num_epochs"]),
        log_image_freq=int(raw.get("log_image_freq", 1)),
        save_freq=int(raw.get("save_freq", 1)),
        # The number of processes travels in Status.world_size; the dashboard and --ci show it from there.
        backend=f"torch {torch.__version__} on {device}",
        description=f"{'DDPO' if isinstance(config, DDPOConfig) else 'AlignProp'} on {config.model}",
        warnings=warnings,
        world_size=ranks.world_size,
    )
    limit = int(raw.get("num_checkpoint_limit", 5))
    jobs: list[TrainingJob] = []

    def save(step: int, seq: int) -> str:
        from alignprop_torch.run_dir_checkpoint import CheckpointState

        return jobs[0].save(run_dir, CheckpointState(step=step, seq=seq, run_id=run_dir.name), config, limit)

    tracking = TrackerSettings.from_config(raw)
    resumed_at = None if args.resume is None else start_step
    tracker = None if tracking is None or not ranks.leads else RunTracker(tracking, run_dir.name, raw, resumed_at)

    def load(progress: ProgressListener) -> TrainingJob:
        job = TrainingJob.load(config, device, args.resume, run_dir, tracker, ranks, progress)
        if ranks.leads:  # rank 0 evaluates while the others wait at the next step's gradient average
            job.evaluation = open_run_evaluation(raw, job.trainer, run_dir, job.export_to, args.resume is not None)
        jobs.append(job)
        return job

    try:
        return run_trainer(
            args, AGENT, settings, load, save, start_step=start_step, start_seq=start_seq, tracker=tracker, ranks=ranks
        )
    finally:
        ranks.close()


if __name__ == "__main__":
    exit_with(main)
