"""The run loop over the real wire: a non-finite loss fails the run with one error naming the cause and the last good
checkpoint; a run that ends writes its events to events.jsonl as it published them; loading is a state that reports
progress and answers commands."""

import json
import math
import threading

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.run_dir import EventsWriter, NonFiniteTensor
from alignprop_torch.trainer.progress import component_loading
from alignprop_torch.trainer.run_control import RunControl
from alignprop_torch.trainer.run_loop import RunLoop, RunSettings, StepOutcome
from alignprop_torch.wire.options import Endpoints, TrainerServerOptions
from alignprop_torch.wire.server import TrainerServer


class DivergingJob:
    """Finite for `good` steps, then a NaN loss."""

    def __init__(self, good: int) -> None:
        self.good, self.steps = good, 0

    def step(self, keep_images: bool) -> StepOutcome:
        self.steps += 1
        loss = -0.5 if self.steps <= self.good else math.nan
        return StepOutcome(loss=loss, rewards=[0.5, 0.25], grad_norm=0.1, lr=1e-3, extra={"approx_kl": 0.25})


def run(
    tmp_path,
    job,
    total=10,
    save_freq=2,
    fail: dict[int, Exception] | None = None,
    warnings=(),
    log_image_freq=1000,
    load=None,
):
    """`fail[step]`: what saving at that step raises; `load(control, progress)`: the job factory (default: `job`)."""
    control = RunControl()
    events = EventsWriter(tmp_path)
    server = TrainerServer.bind(
        TrainerServerOptions(
            endpoints=Endpoints(f"ipc://{tmp_path}/c", f"ipc://{tmp_path}/e", f"ipc://{tmp_path}/o"),
            run_id="run",
            config_json="{}",
            agent="test",
            handle=control.handle,
            record=events.append,
        )
    )
    saved: list[tuple[int, int]] = []

    def save(step: int, seq: int) -> str:
        if fail and step in fail:
            raise fail[step]
        saved.append((step, seq))
        return f"checkpoints/checkpoint_{step}"

    try:
        settings = RunSettings(
            total_steps=total,
            log_image_freq=log_image_freq,
            save_freq=save_freq,
            backend="cpu",
            description="t",
            warnings=warnings,
        )
        factory = (lambda progress: load(control, progress)) if load else (lambda _progress: job)
        code = RunLoop(factory, settings, server, control, tmp_path, save).run()
    finally:
        server.close()
        events.close()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    return code, control, saved, lines


def checkpoint_events(lines):
    """(seq, step, reason) of each CheckpointSaved: the seq a save was told is the one its event got."""
    return [(x["seq"], x["checkpoint"]["step"], x["checkpoint"]["reason"]) for x in lines if "checkpoint" in x]


def test_a_nan_loss_fails_the_run_naming_the_step_and_the_last_good_checkpoint(tmp_path):
    code, control, saved, lines = run(tmp_path, DivergingJob(good=5))
    assert code == 1
    assert control.state == pb.RUN_STATE_FAILED
    assert [step for step, _ in saved] == [2, 4], "no checkpoint of diverged weights"
    assert checkpoint_events(lines) == [(seq, step, "save_freq") for step, seq in saved]
    error = next(line["error"] for line in lines if "error" in line)
    assert error["message"] == (
        "loss is NaN at step 6: training diverged (try a lower train_learning_rate or train_max_grad_norm); "
        "the last good checkpoint is kept (step 4)"
    )
    assert lines[-1]["status"]["state"] == "RUN_STATE_FAILED"
    assert [line["metrics"]["step"] for line in lines if "metrics" in line] == [1, 2, 3, 4, 5]


def test_a_finished_run_saves_once_at_the_end_and_logs_every_event_in_seq_order(tmp_path):
    code, control, saved, lines = run(tmp_path, DivergingJob(good=100), total=5, save_freq=2)
    assert code == 0 and control.state == pb.RUN_STATE_DONE
    assert [step for step, _ in saved] == [2, 4, 5]
    reasons = ["save_freq", "save_freq", "final"]
    assert checkpoint_events(lines) == [(seq, step, r) for (step, seq), r in zip(saved, reasons, strict=True)]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert all(line["metrics"]["scalars"] == {"approx_kl": 0.25} for line in lines if "metrics" in line)
    states = [line["status"]["state"] for line in lines if "status" in line]
    assert states == ["RUN_STATE_STARTING", "RUN_STATE_RUNNING", "RUN_STATE_STOPPING", "RUN_STATE_DONE"]


def test_a_failed_save_is_reported_and_training_continues_but_a_failed_final_save_fails_the_run(tmp_path):
    disk_full = OSError(28, "No space left on device")
    code, _, saved, lines = run(tmp_path, DivergingJob(good=100), total=5, fail={2: disk_full, 5: disk_full})
    assert code == 1
    assert [step for step, _ in saved] == [4]
    errors = [line["error"] for line in lines if "error" in line]
    assert errors[0] == {
        "message": "checkpoint at step 2 (save_freq) could not be saved: [Errno 28] No space left on device; "
        "training continues, the previous checkpoint is intact",
        "source": "checkpoint",
    }
    assert errors[1]["message"] == "checkpoint at step 5 (final) could not be saved: [Errno 28] No space left on device"
    assert [line["metrics"]["step"] for line in lines if "metrics" in line] == [1, 2, 3, 4, 5]


def test_non_finite_weights_are_never_saved_and_fail_the_run_naming_the_tensor(tmp_path):
    key = "unet.down_blocks.0.attentions.0.to_q.lora.up.weight"
    code, control, saved, lines = run(tmp_path, DivergingJob(good=100), total=5, fail={4: NonFiniteTensor(key)})
    assert code == 1 and control.state == pb.RUN_STATE_FAILED
    assert [step for step, _ in saved] == [2]
    error = next(line["error"] for line in lines if "error" in line)
    assert error["message"] == (
        f'"{key}" is not finite after step 4: training diverged (try a lower train_learning_rate or '
        "train_max_grad_norm); the last good checkpoint is kept (step 2)"
    )


def test_each_config_warning_is_published_once_as_a_warn_log_right_after_the_start(tmp_path):
    warnings = ("train_use_8bit_adam=true is ignored", "tracker_kwargs is ignored")
    code, _, _, lines = run(tmp_path, DivergingJob(good=100), total=2, warnings=warnings)
    assert code == 0
    assert "status" in lines[0]
    assert [line["log"] for line in lines[1:3]] == [{"level": "LOG_LEVEL_WARN", "message": m} for m in warnings]
    assert sum("log" in line for line in lines) == 2


class ScriptedEvaluator:
    """An evaluator whose monitors follow a script by step (the samples: one 2×2 image of the step's grey)."""

    def __init__(self, rewards: dict[int, float]) -> None:
        self.rewards = rewards
        self.base = None

    def use_base(self, images) -> None:
        self.base = images

    def evaluate(self, step: int):
        import numpy as np

        from alignprop_torch.eval.evaluator import EvalOutcome, EvalSample

        images = np.full((1, 2, 2, 3), step, dtype=np.uint8)
        monitors = {"reward": self.rewards[step], "fidelity": 0.5 if step == 4 else 0.9}
        return EvalOutcome(step, monitors, [EvalSample("a red circle", 7, {"colour": "red"})], images, [0.5])


class EvaluatedJob(DivergingJob):
    def __init__(self, evaluation) -> None:
        super().__init__(good=100)
        self.evaluation = evaluation


def test_the_run_loop_evaluates_at_0_every_eval_freq_and_the_end_and_keeps_the_best(tmp_path):
    from alignprop_torch.trainer.run_evaluation import EvalSettings, RunEvaluation

    settings = EvalSettings(3, ["a red circle"], [7], ["reward"], 4, "reward", 0.8)
    # Step 4's reward is the highest but its fidelity is under the floor; 3 beats 0; 5 (the last) ties 3.
    evaluator = ScriptedEvaluator({0: 0.1, 3: 0.6, 5: 0.6, 4: 0.9})
    saved_to = []
    evaluation = RunEvaluation(evaluator, settings, 5, tmp_path, lambda folder: saved_to.append(folder), False)  # type: ignore[arg-type]
    code, _, _, lines = run(tmp_path, EvaluatedJob(evaluation), total=5, save_freq=100)
    assert code == 0
    evals = [line["eval"] for line in lines if "eval" in line]
    assert [e.get("step", 0) for e in evals] == [0, 3, 5]
    assert evals[1]["seeds"] == [7]
    assert evals[1]["images"]["images"][0]["path"] == "images/eval/step-3/0.png"
    captions = json.loads((tmp_path / "images/eval/step-3/captions.json").read_text())
    assert captions == [
        {"file": "0.png", "prompt": "a red circle", "prompt_metadata": {"colour": "red"}, "reward": 0.5, "seed": 7}
    ]
    best = json.loads((tmp_path / "best/best.json").read_text())
    assert (best["step"], best["metric"], best["value"]) == (3, "reward", 0.6)
    assert saved_to == [tmp_path / "best", tmp_path / "best"]
    announced = [line["checkpoint"] for line in lines if "checkpoint" in line]
    assert [(c.get("step", 0), c["reason"]) for c in announced] == [(0, "best"), (3, "best"), (5, "final")]


def test_while_loading_commands_are_answered_and_a_stop_ends_the_run_before_step_1_without_waiting_for_the_load(
    tmp_path,
):
    answers = []
    release = threading.Event()

    def load(control, progress):
        report = component_loading(progress, 2)
        report("unet", 0)
        report("vae", 1)  # within the throttle's interval of the first: held back, then superseded
        report("reward", 2)
        answers.extend(control.handle(c) for c in ("checkpoint_now", "pause", "pause", "resume", "stop"))
        release.wait(60)  # a download that never finishes
        return DivergingJob(good=100)

    try:
        code, control, saved, lines = run(tmp_path, None, total=5, load=load)
    finally:
        release.set()
    assert code == 0 and control.state == pb.RUN_STATE_DONE
    assert [(a.ok, a.message) for a in answers] == [
        (False, "no checkpoint while loading: nothing has been trained yet"),
        (True, "loading; will pause before step 1"),
        (True, "loading; will pause before step 1"),
        (True, "loading; will run when ready"),
        (True, "stopping while loading: the run ends before its first step"),
    ]
    assert all(a.state == pb.RUN_STATE_STARTING for a in answers)
    progress = [line["progress"] for line in lines if "progress" in line]
    assert [(p["item"], p.get("itemsDone", 0), p["itemsTotal"], p["unit"]) for p in progress] == [
        ("unet", 0, 2, "components"),
        ("reward", 2, 2, "components"),
    ], "the first report goes out at once, the completing one is never held back"
    statuses = [line["status"] for line in lines if "status" in line]
    assert [s["state"] for s in statuses] == ["RUN_STATE_STARTING", "RUN_STATE_STOPPING", "RUN_STATE_DONE"]
    assert statuses[-1]["message"] == "stopped before step 1: nothing was trained"
    assert saved == [] and not any("metrics" in line or "checkpoint" in line for line in lines)


def test_a_resumed_evaluation_reads_back_the_base_samples_and_the_best_so_far(tmp_path):
    from alignprop_torch.trainer.run_evaluation import EvalSettings, RunEvaluation

    settings = EvalSettings(3, ["a red circle"], [7], ["reward"], 4, "reward", None)
    first = RunEvaluation(ScriptedEvaluator({0: 0.1, 3: 0.6}), settings, 6, tmp_path, lambda _: None, False)  # type: ignore[arg-type]
    for step in (0, 3):
        first.run(step, lambda _: None)
    evaluator = ScriptedEvaluator({6: 0.5})
    resumed = RunEvaluation(evaluator, settings, 6, tmp_path, lambda _: None, True)  # type: ignore[arg-type]
    assert evaluator.base is not None and evaluator.base.tolist() == [[[[0, 0, 0]] * 2] * 2]
    assert resumed.best is not None and resumed.best.best is not None and resumed.best.best.step == 3
    assert not resumed.best.consider(6, {"reward": 0.5}), "under the best kept before the resume"
