"""log_with on the torch engine through accelerate's trackers (alignprop_torch.trainer.trackers), fed the events a run
publishes: TensorBoard's own reader sees each step once across a resume (purge_step) with the resumed values and the
captioned images; an offline wandb run holds every step's scalars and the captioned images; tracker_kwargs,
accelerator_kwargs and project_kwargs reach accelerate; a tracker that cannot start fails the run naming log_with."""

import io

import pytest
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.run_loop import TrainingError
from alignprop_torch.trainer.trackers import RunTracker, TrackerSettings, metric_scalars
from tools.read_wandb_history import read_run

CONFIG = {"log_with": "", "train_learning_rate": 1e-3, "truncated_rand_backprop_minmax": [0, 50], "reward_target": None}


def settings(log_with, logdir, **kwargs) -> TrackerSettings:
    raw = {"log_with": log_with, "logdir": str(logdir), **kwargs}
    settings = TrackerSettings.from_config(raw)
    assert settings is not None
    return settings


def metrics(step: int, loss: float) -> pb.Event:
    m = pb.Metrics(step=step, epoch=step - 1, loss=loss, reward_mean=-loss, reward_std=0.25, reward_min=-loss - 0.5)
    m.reward_max, m.grad_norm, m.lr, m.step_seconds, m.samples_per_second = -loss + 0.5, 0.125, 1e-3, 2.0, 1.0
    m.scalars["approx_kl"] = 0.0625
    return pb.Event(seq=step, metrics=m)


def png(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), color).save(buffer, format="PNG")
    return buffer.getvalue()


def images(step: int) -> pb.Event:
    batch = pb.ImageBatch(step=step)
    batch.images.add(png=png((255, 0, 0)), prompt="a red circle on a very long white background", reward=0.5, width=8)
    batch.images.add(png=png((0, 0, 255)), prompt="a blue square", reward=-1.25, width=8, height=4)
    return pb.Event(images=batch)


def log_run(tracker: RunTracker, events: list[pb.Event]) -> None:
    tracker.start()
    try:
        for event in events:
            tracker.write(event)
    finally:
        tracker.end()


def test_a_resumed_runs_tensorboard_shows_each_step_once_with_the_resumed_values_and_the_captioned_images(tmp_path):
    log_run(RunTracker(settings("tensorboard", tmp_path), "run", CONFIG, None), [metrics(s, s) for s in range(1, 5)])
    resumed = [metrics(3, 30), images(3), metrics(4, 40)]
    log_run(RunTracker(settings("tensorboard", tmp_path), "run", CONFIG, resumed_at=2), resumed)

    acc = EventAccumulator(str(tmp_path / "run"), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(1, 1), (2, 2), (3, 30), (4, 40)]
    assert set(acc.Tags()["scalars"]) == set(metric_scalars(metrics(1, 1).metrics))
    assert "approx_kl" in acc.Tags()["scalars"]
    assert [e.value for e in acc.Scalars("reward_max")] == [-0.5, -1.5, -29.5, -39.5]
    assert sorted(acc.Tags()["images"]) == ["a blue square | -1.25", "a red circle on a very lo | 0.50"]
    (red,) = acc.Images("a red circle on a very lo | 0.50")
    assert (red.step, red.width, red.height) == (3, 8, 4)
    assert Image.open(io.BytesIO(red.encoded_image_string)).getpixel((0, 0)) == (255, 0, 0)


def test_an_offline_wandb_run_holds_every_steps_scalars_and_the_captioned_images(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    wandb_kwargs = {"wandb": {"tags": ["tiny"], "notes": "from tracker_kwargs"}}
    tracker = RunTracker(settings("wandb", tmp_path, tracker_kwargs=wandb_kwargs), "run-7", CONFIG, None)
    log_run(tracker, [metrics(1, 1), metrics(2, 2), images(2)])

    (run,) = [read_run(d) for d in (tmp_path / "wandb").glob("offline-run-*")]
    assert (run["project"], run["name"]) == ("trl", "run-7")
    assert run["config"]["truncated_rand_backprop_minmax"] == [0, 50]
    rows = {row["_step"]: row for row in run["history"]}
    assert sorted(rows) == [1, 2]
    assert {k: v for k, v in rows[2].items() if k in metric_scalars(metrics(2, 2).metrics)} == metric_scalars(
        metrics(2, 2).metrics
    )
    assert rows[2]["images/captions"] == ["a red circle on a very lo | 0.50", "a blue square | -1.25"]
    assert "images/captions" not in rows[1]
    assert len(run["media"]) == 2


def test_project_and_tracker_kwargs_reach_accelerate(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    s = settings(
        "tensorboard",
        tmp_path / "logs",
        project_kwargs={"logging_dir": str(elsewhere)},
        tracker_kwargs={"tensorboard": {"filename_suffix": ".alignprop"}},
    )
    log_run(RunTracker(s, "run", CONFIG, None), [metrics(1, 1)])
    assert [p.name.endswith(".alignprop") for p in (elsewhere / "run").glob("events.out.tfevents.*")] == [True]
    assert not (tmp_path / "logs" / "run").exists()


@pytest.mark.parametrize("kwargs", ["accelerator_kwargs", "project_kwargs", "tracker_kwargs"])
def test_a_tracker_that_cannot_start_fails_the_run_naming_log_with_and_the_cause(tmp_path, kwargs):
    bad = {"tensorboard": {"no_such_argument": 1}} if kwargs == "tracker_kwargs" else {"no_such_argument": 1}
    s = settings("tensorboard", tmp_path, **{kwargs: bad})
    with pytest.raises(TrainingError, match=r'^log_with="tensorboard": .*no_such_argument.*check tracker_kwargs'):
        RunTracker(s, "run", CONFIG, None).start()


def test_an_image_hook_gets_accelerates_tracker_as_trls_did(tmp_path):
    from alignprop_torch.trainer.run_loop import LoggedImages
    from alignprop_torch.user_modules import load_image_hook

    hook_file = tmp_path / "hook.py"
    hook_file.write_text(
        "def image_samples_hook(prompt_image_data, global_step, tracker):\n"
        "    tracker.writer.add_scalar('from_hook', 7.0, global_step)\n"
    )
    tracker = RunTracker(settings("tensorboard", tmp_path), "run", CONFIG, None)
    tracker.start()
    try:
        hook = load_image_hook(str(hook_file), tmp_path, tracker.general_tracker)
        logged = LoggedImages(pngs=[], width=1, height=1, prompts=["p"], prompt_metadata=[{}], rewards=[0.5])
        hook(3, logged, [])
    finally:
        tracker.end()
    acc = EventAccumulator(str(tmp_path / "run"), size_guidance={"scalars": 0})
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("from_hook")] == [(3, 7.0)]
