"""The trainer's command line takes the config warnings the CLI hands it (`--warning <text>`, once per field the
engine cannot honour); test_trainer_run_loop.py checks the run loop publishes them."""

from alignprop_torch.trainer.args import trainer_arg_parser, trainer_args


def test_the_trainer_command_line_takes_each_warning_in_order(tmp_path):
    warnings = ("train_use_8bit_adam=true is ignored", "tracker_kwargs is ignored")
    endpoints = ["--control", "ipc://c", "--events", "ipc://e", "--observe", "ipc://o"]
    argv = ["--config", str(tmp_path / "config.json"), *endpoints]
    with_warnings = [*argv, "--warning", warnings[0], "--warning", warnings[1]]
    assert trainer_args(trainer_arg_parser("t").parse_args(with_warnings)).warnings == warnings
    assert trainer_args(trainer_arg_parser("t").parse_args(argv)).warnings == ()
