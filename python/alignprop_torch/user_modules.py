"""The user's own Python code on the torch engine, as TRL's AlignPropTrainer takes it: `reward` naming a `.py` file
whose `reward_function(images, prompts, prompt_metadata)` returns `(rewards, metadata)`, and `image_hook` naming a
`.py` file whose `image_samples_hook(prompt_image_data, global_step, tracker)` is called with every logged batch.
`file.py:name` picks another function in the file. The file's folder is put on `sys.path`, so it may import modules
beside it; what the user's code prints goes to stderr (the run's trainer.log), since stdout carries the trainer's ready
line. (The tfjs engine's are JavaScript: src/rewards/user-module.ts, src/trainer/image-hook.ts.)

Every failure names the field and the spec: a missing file, an error while importing it, no such function, and for a
reward a probe batch that fails, gives the wrong shape, gives non-finite values, or has no gradient with respect to
the images (then the reward is marked not differentiable, which AlignProp refuses).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import inspect
import math
import re
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import torch

from .rewards.reward import Reward, RewardFn

if TYPE_CHECKING:
    from .trainer.run_loop import ImageHook, LoggedImages

#: `path/to/file.py` or `path/to/file.py:function`.
PYTHON_MODULE = re.compile(r"^(?P<path>.+\.py)(?::(?P<name>[A-Za-z_]\w*))?$")
#: The functions a file defines unless the spec names another: the parameter names of TRL's AlignPropTrainer.
REWARD_FUNCTION = "reward_function"
IMAGE_HOOK_FUNCTION = "image_samples_hook"
#: Images in the reward's probe batch.
PROBE_BATCH = 2


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Every call into the user's code: its prints go to stderr."""
    with contextlib.redirect_stdout(sys.stderr):
        return fn(*args)


def is_python_module(spec: str) -> bool:
    return PYTHON_MODULE.match(spec) is not None


def import_function(field: str, spec: str, default_name: str) -> tuple[Callable[..., Any], Path]:
    """The function `spec` (`file.py[:name]`) names, imported from its file, and the file; errors name `field` and
    `spec`."""
    where = f"{field}={spec!r}"
    match = PYTHON_MODULE.match(spec)
    if match is None:
        raise ValueError(f"{where} is not a Python module: name a .py file, optionally file.py:function")
    path = Path(match["path"]).resolve()
    name = match["name"] or default_name
    if not path.is_file():
        raise ValueError(f"{where}: no such file ({path})")
    module = import_file(path, where)
    fn = getattr(module, name, None)
    if fn is None:
        defined = sorted(k for k, v in vars(module).items() if inspect.isfunction(v) and not k.startswith("_"))
        raise ValueError(f"{where}: {path.name} defines no {name} (its functions: {', '.join(defined) or 'none'})")
    if not callable(fn):
        raise ValueError(f"{where}: {name} in {path.name} is a {type(fn).__name__}, not a function")
    return fn, path


def import_file(path: Path, where: str) -> ModuleType:
    """Executes the file once as a module of its own (in sys.modules, so dataclasses and pickling work in it); a
    file that both `reward` and `image_hook` name is one module."""
    stem = re.sub(r"\W", "_", path.stem)
    module_name = f"alignprop_user_{stem}_{hashlib.sha1(bytes(path)).hexdigest()[:8]}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None, f"{path} ends in .py"
    module = importlib.util.module_from_spec(spec)
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    sys.modules[module_name] = module
    try:
        call(spec.loader.exec_module, module)
    except (Exception, SystemExit) as err:
        del sys.modules[module_name]
        raise ValueError(f"{where} raised while being imported: {described(err, path)}") from err
    return module


def described(err: BaseException, path: Path) -> str:
    """`Type: message (file.py line N)`, N the innermost line of the user's file in the traceback."""
    lines = [f.lineno for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
    return f"{type(err).__name__}: {err}" + (f" ({path.name} line {lines[-1]})" if lines else "")


def load_reward_module(spec: str, device: torch.device, image_size: int) -> Reward:
    """The reward `spec` names, checked on a probe batch of PROBE_BATCH images of the pipeline's size on `device`."""
    fn, path = import_function("reward", spec, REWARD_FUNCTION)
    where = f"reward={spec!r}"

    def score(images: torch.Tensor, prompts, metadata) -> tuple[torch.Tensor, dict[str, Any]]:
        try:
            out = call(fn, images, prompts, metadata)
        except Exception as err:
            raise ValueError(f"{where} failed on images {list(images.shape)}: {described(err, path)}") from err
        return unpack(out, where)

    why = probe(score, where, device, image_size)
    return Reward(
        name=spec,
        description=f"user module {spec}" + (f": {why}" if why else ""),
        range=(-math.inf, math.inf),
        score=score,
        differentiable=not why,
    )


def unpack(out: Any, where: str) -> tuple[torch.Tensor, dict[str, Any]]:
    """TRL's `(rewards, metadata)` (a tuple or list), or the rewards tensor alone."""
    rewards, meta = out if isinstance(out, tuple | list) and len(out) == 2 else (out, {})
    if not isinstance(rewards, torch.Tensor):
        raise ValueError(
            f"{where} returned {type(out).__name__}; it must return (rewards, metadata) or rewards alone, "
            "rewards a tensor [B]"
        )
    if not isinstance(meta, dict):
        raise ValueError(f"{where} returned metadata of type {type(meta).__name__}; it must be a dict")
    return rewards, meta


def probe(score: RewardFn, where: str, device: torch.device, size: int) -> str:
    """Runs the reward on seeded images [PROBE_BATCH, 3, size, size] in [0, 1] that require grad: it must give
    PROBE_BATCH finite values. Returns "" when their gradient reaches the images, else why not."""
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(PROBE_BATCH, 3, size, size, generator=generator).to(device).requires_grad_()
    prompts = [f"probe image {i}" for i in range(PROBE_BATCH)]
    batch = f"a probe batch of {PROBE_BATCH} images [{PROBE_BATCH}, 3, {size}, {size}]"
    rewards, _ = score(images, prompts, [{} for _ in prompts])
    if rewards.shape != (PROBE_BATCH,):
        raise ValueError(f"{where} returned shape {list(rewards.shape)} for {batch}; it must return [{PROBE_BATCH}]")
    if not torch.isfinite(rewards).all():
        values = ", ".join(str(v) for v in rewards.detach().float().cpu().tolist())
        raise ValueError(f"{where} returned non-finite rewards [{values}] for {batch} in [0, 1]")
    if not rewards.requires_grad:
        return "its rewards carry no gradient (computed under no_grad, detached, or outside torch)"
    (grad,) = torch.autograd.grad(rewards.sum(), images, allow_unused=True)
    if grad is None:
        return "its rewards do not depend on the images through differentiable torch operations"
    if not torch.isfinite(grad).all():
        raise ValueError(f"{where}: the gradient of its rewards with respect to the images is not finite on {batch}")
    return ""


def load_image_hook(spec: str, run_dir: Path, tracker: Callable[[], object] = lambda: None) -> ImageHook:
    """The hook `spec` names, behind the run loop's calling convention. As TRL's, `prompt_image_data` holds `images`
    ([B, 3, H, W] in [0, 1]; float32 on the CPU here), `prompts`, `prompt_metadata` and `rewards` ([B]; detached
    here); here also `paths` (each PNG, relative to `run_dir`) and `run_dir`. `global_step` is the step the images
    belong to; `tracker` is accelerate's tracker for log_with (`tracker()` gives it), None without log_with."""
    fn, _ = import_function("image_hook", spec, IMAGE_HOOK_FUNCTION)
    try:
        inspect.signature(fn).bind(None, None, None)
    except TypeError as err:
        raise ValueError(
            f"image_hook={spec!r}: {fn.__name__}{inspect.signature(fn)} cannot be called as "
            f"(prompt_image_data, global_step, tracker): {err}"
        ) from err
    except ValueError:  # a builtin without a signature: its call will tell
        pass

    def hook(step: int, logged: LoggedImages, paths: list[str]) -> None:
        prompt_image_data = {
            "images": logged.pixels,
            "prompts": logged.prompts,
            "prompt_metadata": logged.prompt_metadata,
            "rewards": torch.tensor(logged.rewards),
            "paths": paths,
            "run_dir": run_dir,
        }
        call(fn, prompt_image_data, step, tracker())

    return hook
