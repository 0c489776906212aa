"""Config warnings reach the user through the run's events: the CLI hands each field the engine cannot honour to the
trainer as `--warning <text>`, and the run loop publishes each once, as a WARN log event right after it starts."""

import json

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.args import trainer_arg_parser, trainer_args
from alignprop_torch.trainer.run_control import RunControl
from alignprop_torch.trainer.run_loop import RunLoop, RunSettings, StepOutcome
from alignprop_torch.wire.options import Endpoints, TrainerServerOptions
from alignprop_torch.wire.server import TrainerServer

WARNINGS = ("train_use_8bit_adam=true is ignored", "tracker_kwargs is ignored")


class SteadyJob:
    def step(self, keep_images: bool) -> StepOutcome:
        return StepOutcome(loss=-0.5, rewards=[0.5], grad_norm=0.1, lr=1e-3)


def test_the_trainer_command_line_takes_each_warning_in_order(tmp_path):
    endpoints = ["--control", "ipc://c", "--events", "ipc://e", "--observe", "ipc://o"]
    argv = ["--config", str(tmp_path / "config.json"), *endpoints, "--warning", WARNINGS[0], "--warning", WARNINGS[1]]
    assert trainer_args(trainer_arg_parser("t").parse_args(argv)).warnings == WARNINGS
    assert trainer_args(trainer_arg_parser("t").parse_args(argv[:8])).warnings == ()


def test_each_warning_is_published_once_as_a_warn_log_right_after_the_start(tmp_path):
    control = RunControl()
    server = TrainerServer.bind(
        TrainerServerOptions(
            endpoints=Endpoints(f"ipc://{tmp_path}/c", f"ipc://{tmp_path}/e", f"ipc://{tmp_path}/o"),
            run_id="run",
            config_json="{}",
            agent="test",
            handle=control.handle,
        )
    )
    settings = RunSettings(
        total_steps=2, log_image_freq=1000, save_freq=1000, backend="cpu", description="t", warnings=WARNINGS
    )
    try:
        assert RunLoop(lambda: SteadyJob(), settings, server, control, tmp_path, None).run() == 0
    finally:
        server.close()
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert "status" in lines[0]
    assert [line["log"] for line in lines[1:3]] == [{"level": "LOG_LEVEL_WARN", "message": m} for m in WARNINGS]
    assert sum("log" in line for line in lines) == 2
    assert control.state == pb.RUN_STATE_DONE
