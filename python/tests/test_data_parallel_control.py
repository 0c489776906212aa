"""Rank coordination on 2 real gloo ranks, without a model: every rank obeys rank 0's commands at the same step
boundary (pause, checkpoint now while paused, resume, stop), and a save that fails on rank 0 fails on every rank."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from gloo_ranks import spawn_ranks

from alignprop_torch.distributed import join_ranks
from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.data_parallel import coordination, write_on_rank_0
from alignprop_torch.trainer.run_control import RunControl, state_name

WORLD = 2


def rank_main(rank: int, out: Path) -> None:
    ranks = join_ranks()
    control = RunControl(step=3, coordination=coordination(ranks))
    control.to(pb.RUN_STATE_RUNNING)
    seen: list[str] = []
    paused = threading.Event()

    def announce(message: str) -> None:
        seen.append(f"{state_name(control.state)}: {message}")
        paused.set()

    def commands() -> None:  # the wire's thread, on rank 0 only
        paused.wait()
        control.handle("checkpoint_now")
        control.handle("resume")

    if ranks.leads:
        control.handle("pause")
        threading.Thread(target=commands).start()
    control.boundary(lambda reason: seen.append(f"checkpoint {reason}"), announce)
    if ranks.leads:
        control.handle("stop")
    control.boundary(lambda reason: seen.append(f"checkpoint {reason}"), announce)
    seen.append(f"stop {control.stop_requested}")

    def write() -> str:
        raise OSError("No space left on device")

    try:
        write_on_rank_0(ranks, write)
    except OSError as err:
        seen.append(f"save failed: {err}")
    (out / f"rank{rank}.json").write_text(json.dumps(seen))


def test_every_rank_pauses_saves_resumes_and_stops_at_rank_0s_boundaries_and_shares_its_failed_save(tmp_path):
    spawn_ranks(rank_main, WORLD, tmp_path)
    expected = [
        "paused: paused after step 3",
        "checkpoint requested",
        "running: resumed at step 3",
        "stop True",
        "save failed: No space left on device",
    ]
    for rank in range(WORLD):
        assert json.loads((tmp_path / f"rank{rank}.json").read_text()) == expected, f"rank {rank}"
