"""The user's Python reward modules and image hooks (alignprop_torch.user_modules): TRL's signatures, one error per
mistake naming the field, the spec and the line, a differentiable reward training the LoRA exactly as the same
formula built in does, a NaN reward failing the run through the run loop's NaN path, and the README's example."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import torch
from test_trainer_run_loop import run
from torch_fixtures import CPU, cpu_config, tiny_shapes

from alignprop_torch.build import build_alignprop
from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.__main__ import TrainingJob
from alignprop_torch.trainer.run_loop import LoggedImages, StepOutcome
from alignprop_torch.user_modules import load_image_hook, load_reward_module

README = Path(__file__).resolve().parents[2] / "README.md"


def module(tmp_path: Path, source: str, name: str = "user.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def reward(spec: str, size: int = 8):
    return load_reward_module(spec, CPU, size)


def test_a_reward_module_may_return_trls_tuple_or_the_rewards_alone_and_name_its_function(tmp_path: Path):
    spec = module(
        tmp_path,
        """
        def reward_function(images, prompts, prompt_metadata):
            return images.mean((1, 2, 3)), {"n": len(prompts)}

        def alone(images, prompts, prompt_metadata):
            return images.amax((1, 2, 3))
        """,
    )
    images = torch.stack([torch.full((3, 4, 4), 0.25), torch.full((3, 4, 4), 0.75)])
    tuple_form, alone = reward(spec), reward(f"{spec}:alone")
    assert tuple_form.differentiable and alone.differentiable
    assert tuple_form.score(images, ["a", "b"], [{}, {}])[0].tolist() == [0.25, 0.75]
    assert tuple_form.score(images, ["a", "b"], [{}, {}])[1] == {"n": 2}
    assert alone.score(images, ["a", "b"], [{}, {}]) == (pytest.approx(torch.tensor([0.25, 0.75])), {})


BROKEN_REWARDS = [
    ("x = 1\n", "", r"user\.py defines no reward_function \(its functions: none\)"),
    ("def score(i, p, m):\n    return i.mean((1, 2, 3))\n", "", r"defines no reward_function \(its functions: score\)"),
    ("reward_function = 3\n", "", r"reward_function in user\.py is a int, not a function"),
    (
        "import torch\n\n1 / 0\n",
        "",
        r"raised while being imported: ZeroDivisionError: division by zero \(user\.py line 3\)",
    ),
    (
        "def reward_function(images, prompts, prompt_metadata):\n    return prompt_metadata[0]['aesthetic']\n",
        "",
        r"failed on images \[2, 3, 8, 8\]: KeyError: 'aesthetic' \(user\.py line 2\)",
    ),
    (
        "def reward_function(images, prompts, prompt_metadata):\n    return images.mean((2, 3)), {}\n",
        "",
        r"returned shape \[2, 3\] for a probe batch of 2 images \[2, 3, 8, 8\]; it must return \[2\]",
    ),
    (
        "def reward_function(images, prompts, prompt_metadata):\n    return [0.5, 0.5]\n",
        "",
        r"returned list; it must return \(rewards, metadata\) or rewards alone, rewards a tensor \[B\]",
    ),
    (
        "def reward_function(images, prompts, prompt_metadata):\n    return images.mean((1, 2, 3)), 'meta'\n",
        "",
        r"returned metadata of type str; it must be a dict",
    ),
    (
        "def reward_function(images, prompts, prompt_metadata):\n    return images.mean((1, 2, 3)) / 0 * 0, {}\n",
        "",
        r"returned non-finite rewards \[nan, nan\]",
    ),
    (
        "def reward_function(images, prompts, prompt_metadata):\n    return (images * 0).sqrt().mean((1, 2, 3)), {}\n",
        "",
        r"the gradient of its rewards with respect to the images is not finite",
    ),
    ("def reward_function(images, prompts, prompt_metadata):\n    return images\n", ":other", r"defines no other"),
]


@pytest.mark.parametrize(("source", "suffix", "message"), BROKEN_REWARDS)
def test_a_broken_reward_module_is_one_error_naming_the_field_and_the_spec(
    tmp_path: Path, source: str, suffix: str, message: str
):
    spec = module(tmp_path, source) + suffix
    with pytest.raises(ValueError, match=re.escape(f"reward={spec!r}") + ".*" + message):
        reward(spec)


def test_a_missing_file_and_a_spec_that_is_no_python_module_are_named(tmp_path: Path):
    with pytest.raises(ValueError, match=re.escape(f"reward='{tmp_path}/nope.py': no such file ({tmp_path}/nope.py)")):
        reward(f"{tmp_path}/nope.py")
    with pytest.raises(ValueError, match=r"image_hook='hook\.js' is not a Python module: name a \.py file"):
        load_image_hook("hook.js", tmp_path)


@pytest.mark.parametrize("how", ["images.mean((1, 2, 3)).detach()", "torch.tensor(images.mean((1, 2, 3)).tolist())"])
def test_a_reward_without_a_gradient_loads_as_not_differentiable_and_alignprop_refuses_it_saying_why(
    tmp_path: Path, how: str
):
    spec = module(
        tmp_path, f"import torch\n\ndef reward_function(images, prompts, prompt_metadata):\n    return {how}\n"
    )
    values = reward(spec, size=32)
    assert not values.differentiable
    with pytest.raises(ValueError, match=re.escape(f'reward "{spec}" is not differentiable (user module {spec}: its')):
        build_alignprop(cpu_config(reward=spec), CPU, components=tiny_shapes(lora=False))


def test_a_user_reward_trains_the_lora_exactly_as_the_same_formula_built_in(tmp_path: Path):
    """`brightness` written by a user: the same loss and the same non-zero LoRA gradient as the built-in's."""
    spec = module(
        tmp_path,
        """
        import torch

        def reward_function(images, prompts, prompt_metadata):
            weights = images.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
            return (images * weights).sum(1).mean((1, 2)), {}
        """,
    )
    config = cpu_config(train_batch_size=2)
    user = build_alignprop(cpu_config(train_batch_size=2, reward=spec), CPU, components=tiny_shapes(lora=False))
    builtin = build_alignprop(
        cpu_config(train_batch_size=2, reward="brightness"), CPU, components=tiny_shapes(lora=False)
    )
    assert config.reward == "" and user.reward.name == spec and builtin.reward.name == "brightness"
    got, expected = user.step(), builtin.step()
    assert got.loss == pytest.approx(expected.loss, rel=1e-5)
    grads = [p.grad for p in user.params]
    assert all(g is not None for g in grads) and sum(float(g.abs().sum()) for g in grads) > 0
    for g, e in zip(grads, (p.grad for p in builtin.params), strict=True):
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-7)


def test_a_nan_from_a_user_reward_during_training_fails_the_run_through_the_nan_path(tmp_path: Path):
    """Finite on the probe batch (the first call) and at steps 1 and 2, NaN from step 3 on."""
    spec = module(
        tmp_path,
        """
        import torch

        calls = 0

        def reward_function(images, prompts, prompt_metadata):
            global calls
            calls += 1
            return images.mean((1, 2, 3)) * (1 if calls <= 3 else torch.nan), {}
        """,
    )
    job = TrainingJob(build_alignprop(cpu_config(reward=spec), CPU, components=tiny_shapes(lora=False)))
    code, control, saved, lines = run(tmp_path, job, total=10, save_freq=1)
    assert code == 1 and control.state == pb.RUN_STATE_FAILED
    assert [step for step, _ in saved] == [1, 2]
    assert next(line["error"]["message"] for line in lines if "error" in line) == (
        "loss is NaN at step 3: training diverged (try a lower train_learning_rate or train_max_grad_norm); "
        "the last good checkpoint is kept (step 2)"
    )


class ImagesJob:
    """Two grey images a step, and the image hook it was given."""

    def __init__(self, image_hook) -> None:
        self.image_hook = image_hook

    def step(self, keep_images: bool) -> StepOutcome:
        pixels = torch.full((2, 3, 4, 4), 0.5)
        logged = LoggedImages([b"\x89PNG"] * 2, 4, 4, ["a", "b"], [{}, {}], [0.5, 0.25], pixels)
        return StepOutcome(
            loss=-0.5, rewards=[0.5, 0.25], grad_norm=0.1, lr=1e-3, images=logged if keep_images else None
        )


def test_an_image_hook_gets_trls_arguments_after_the_images_are_written(tmp_path: Path, capfd):
    spec = module(
        tmp_path,
        """
        import json

        def log_images(prompt_image_data, global_step, tracker):
            data = prompt_image_data
            on_disk = [(data["run_dir"] / p).is_file() for p in data["paths"]]
            record = [global_step, repr(tracker), list(data["images"].shape), data["rewards"].tolist(), on_disk]
            print("hook at step", global_step)
            with open(data["run_dir"] / "calls.jsonl", "a") as f:
                f.write(json.dumps([*record, data["prompts"], data["prompt_metadata"], data["paths"]]) + "\\n")
        """,
    )
    code, *_ = run(tmp_path, ImagesJob(load_image_hook(f"{spec}:log_images", tmp_path)), total=4, log_image_freq=2)
    assert code == 0
    calls = [json.loads(line) for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    assert calls == [
        [
            step,
            "None",
            [2, 3, 4, 4],
            [0.5, 0.25],
            [True, True],
            ["a", "b"],
            [{}, {}],
            [f"images/step-{step}/0.png", f"images/step-{step}/1.png"],
        ]
        for step in (2, 4)
    ]
    printed = capfd.readouterr()
    assert "hook at step 2" in printed.err and "hook at step" not in printed.out, "prints go to stderr, not stdout"


def test_an_image_hook_that_raises_is_a_warning_and_training_goes_on(tmp_path: Path):
    spec = module(
        tmp_path, "def image_samples_hook(prompt_image_data, global_step, tracker):\n    raise OSError('disk')\n"
    )
    code, control, _, lines = run(tmp_path, ImagesJob(load_image_hook(spec, tmp_path)), total=3, log_image_freq=1)
    assert code == 0 and control.state == pb.RUN_STATE_DONE
    warnings = [line["log"]["message"] for line in lines if "log" in line]
    assert warnings == [f"image_hook failed at step {s}: OSError: disk" for s in (1, 2, 3)]


def test_an_image_hook_must_take_trls_three_arguments(tmp_path: Path):
    spec = module(tmp_path, "def image_samples_hook(prompt_image_data):\n    pass\n")
    with pytest.raises(ValueError, match=r"image_hook=.*: image_samples_hook\(prompt_image_data\) cannot be called as"):
        load_image_hook(spec, tmp_path)


def test_the_readmes_python_example_is_a_differentiable_reward_and_a_working_hook(tmp_path: Path):
    section = README.read_text()[README.read_text().index("### Your own reward") :]
    example = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert example, "the README's reward section has a ```python example"
    spec = module(tmp_path, example[1], "my_reward.py")
    scored = reward(spec, size=16)
    assert scored.differentiable
    images = torch.stack([torch.full((3, 16, 16), 0.25), torch.tensor([1.0, 0, 0]).view(3, 1, 1).expand(3, 16, 16)])
    assert scored.score(images, ["a", "b"], [{}, {}])[0].tolist() == pytest.approx([0.25, 0.299])
    hook = load_image_hook(spec, tmp_path)
    hook(7, LoggedImages([b""] * 2, 16, 16, ["a", "b"], [{}, {}], [0.25, 0.299], images), ["x/0.png", "x/1.png"])
    assert (tmp_path / "best.txt").read_text() == "7 x/1.png b\n"
