"""The run directory (`runs/<name>/`) as src/run/README.md documents it, written by the torch engine: the names of
its files, atomic writes (temp sibling, fsync, rename, fsync the folder), the checkpoint folders' listing and
pruning, the logged images with their captions, and the events log's trimming on resume. The format's owner is
src/run/ (layout.ts, events-log.ts, images.ts, checkpoints.ts); this module writes what those readers accept."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.json_lines import to_json_line

EVENTS_FILE = "events.jsonl"
IMAGES_DIR = "images"
CAPTIONS_FILE = "captions.json"
CHECKPOINTS_DIR = "checkpoints"
CHECKPOINT_TENSORS_FILE = "model.safetensors"
CHECKPOINT_STATE_FILE = "state.json"
LORA_WEIGHTS_FILE = "pytorch_lora_weights.safetensors"
#: What state.json's `engine` says for this engine's checkpoints (none: "tfjs", which predates the field).
ENGINE = "torch"
#: The only names a reader counts as checkpoints; `.checkpoint_<N>.tmp-<pid>` is an interrupted save.
CHECKPOINT_NAME = re.compile(r"^checkpoint_(\d+)$")


class NonFiniteTensor(ValueError):
    """A checkpoint tensor holding NaN or Inf: a diverged run, never saved."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key!r} is not finite")
        self.key = key


def step_images_dir(step: int) -> str:
    return f"{IMAGES_DIR}/step-{step}"


def eval_images_dir(step: int) -> str:
    """`images/eval/step-<N>`: the eval samples after N steps (N = 0: the base model)."""
    return f"{IMAGES_DIR}/eval/step-{step}"


def checkpoint_dir(step: int) -> str:
    return f"{CHECKPOINTS_DIR}/checkpoint_{step}"


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with path.open("rb") as f:
        os.fsync(f.fileno())


def write_file_atomic(path: Path, data: bytes) -> None:
    """Writes `.<name>.tmp-<pid>` beside `path`, fsyncs it, renames it over `path` and fsyncs the folder."""
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with temp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    temp.replace(path)
    fsync_dir(path.parent)


def write_dir_atomic(path: Path, fill: Callable[[Path], None]) -> None:
    """Fills the sibling `.<name>.tmp-<pid>` (`fill` writes its files atomically), fsyncs it, removes an existing
    `path`, renames the temp folder to `path` and fsyncs the parent: a crash leaves either the old folder or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    temp.mkdir()
    fill(temp)
    fsync_dir(temp)
    shutil.rmtree(path, ignore_errors=True)
    temp.rename(path)
    fsync_dir(path.parent)


def list_checkpoints(run_dir: Path) -> list[int]:
    """The steps of the complete checkpoints, newest first."""
    root = run_dir / CHECKPOINTS_DIR
    if not root.is_dir():
        return []
    matches = (CHECKPOINT_NAME.match(entry.name) for entry in root.iterdir())
    return sorted((int(m.group(1)) for m in matches if m), reverse=True)


def prune_checkpoints(run_dir: Path, limit: int) -> None:
    """Keeps the newest `limit` checkpoints (by step) and removes what interrupted saves left."""
    root = run_dir / CHECKPOINTS_DIR
    for entry in root.glob(".checkpoint_*"):
        shutil.rmtree(entry, ignore_errors=True)
    for step in list_checkpoints(run_dir)[limit:]:
        shutil.rmtree(run_dir / checkpoint_dir(step), ignore_errors=True)


def write_step_images(
    run_dir: Path,
    step: int,
    pngs: list[bytes],
    prompts: list[str],
    prompt_metadata: list[dict[str, Any]],
    rewards: list[float],
    seeds: list[int] | None = None,
) -> list[str]:
    """`images/step-<N>/<i>.png` and `captions.json` (plain writes, as src/run/images.ts: a re-run step overwrites
    them, and no checkpoint depends on them); with `seeds`, the eval samples in `images/eval/step-<N>/`, each
    caption with its seed. Returns each PNG's path relative to the run directory."""
    folder = step_images_dir(step) if seeds is None else eval_images_dir(step)
    (run_dir / folder).mkdir(parents=True, exist_ok=True)
    captions = []
    for i, (png, prompt, metadata, reward) in enumerate(zip(pngs, prompts, prompt_metadata, rewards, strict=True)):
        (run_dir / folder / f"{i}.png").write_bytes(png)
        caption = {"file": f"{i}.png", "prompt": prompt, "prompt_metadata": metadata, "reward": reward}
        captions.append(caption if seeds is None else caption | {"seed": seeds[i]})
    text = json.dumps(captions, indent=2, ensure_ascii=False) + "\n"
    (run_dir / folder / CAPTIONS_FILE).write_text(text, encoding="utf-8")
    return [f"{folder}/{i}.png" for i in range(len(pngs))]


class EventsWriter:
    """Appends events to events.jsonl, one write per line, image events without their pixels (the PNGs are files),
    as src/run/events-log.ts's EventsWriter does."""

    def __init__(self, run_dir: Path) -> None:
        self._file = (run_dir / EVENTS_FILE).open("a", encoding="utf-8")

    def append(self, event: pb.Event) -> None:
        if event.HasField("images"):
            logged = pb.Event()
            logged.CopyFrom(event)
            for image in logged.images.images:
                image.png = b""
            event = logged
        self._file.write(to_json_line(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def trim_events_log(run_dir: Path, seq: int) -> None:
    """Keeps, byte for byte, the whole events with seq ≤ `seq` (a resumed run logs the later steps again), dropping
    a torn last line; rewritten as `events.jsonl.tmp` and renamed over. The torn-line rule of src/run/events-log.ts:
    a last line that is not a whole event is skipped; a bad line anywhere else is an error naming the line."""
    path = run_dir / EVENTS_FILE
    if not path.exists():
        return
    lines = path.read_bytes().split(b"\n")
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    kept: list[bytes] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            event_seq = int(json.loads(line)["seq"])
        except (ValueError, KeyError, TypeError) as err:
            if i == last:
                continue  # the torn last line of a crashed write
            raise ValueError(f"{path}:{i + 1}: not an event ({err})") from err
        if event_seq <= seq:
            kept.append(line + b"\n")
    temp = path.with_name(EVENTS_FILE + ".tmp")
    with temp.open("wb") as f:
        f.write(b"".join(kept))
        f.flush()
        os.fsync(f.fileno())
    temp.replace(path)
    fsync_dir(run_dir)


def read_checkpoint_state(path: Path) -> dict[str, Any]:
    """state.json of a checkpoint this engine wrote; another engine's is refused naming both (no `engine`: tfjs)."""
    state_path = path / CHECKPOINT_STATE_FILE
    if not state_path.is_file():
        raise ValueError(f"--resume {path}: no {CHECKPOINT_STATE_FILE} (not a checkpoint_<N> directory)")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    engine = state.get("engine", "tfjs")
    if engine != ENGINE:
        raise ValueError(
            f"{state_path}: the checkpoint was written by the {json.dumps(engine)} engine; "
            f"resume it with that engine (--engine {engine}; this trainer is {ENGINE})"
        )
    for field in ("step", "seq"):
        if not isinstance(state.get(field), int) or state[field] < 0:
            raise ValueError(f"{state_path}: {field}={json.dumps(state.get(field))} is not a non-negative integer")
    return state
