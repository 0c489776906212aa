"""Loading while the run is STARTING (the Python side of `loadUnlessStopped` in src/trainer/trainer.ts): the job is
built on a loader thread with its progress throttled into `Progress` events, while the training thread waits for it
or for a stop. A stop wins: the run ends before step 1 and the abandoned load (a daemon thread, perhaps blocked in a
download) ends with the process; nothing of the run directory is written but the events."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.progress import ProgressListener, ProgressThrottle
from alignprop_torch.trainer.run_control import RunControl

J = TypeVar("J")


def load_unless_stopped(
    job_factory: Callable[[ProgressListener], J], control: RunControl, publish: Callable[[pb.Progress], object]
) -> J | None:
    """The loaded job, or None when a stop came first; a loading failure is raised here, on the training thread."""
    throttle = ProgressThrottle(publish)
    loaded: list[J] = []
    failed: list[BaseException] = []

    def load() -> None:
        try:
            loaded.append(job_factory(throttle.report))
        except BaseException as err:  # handed to the training thread, which reports it
            failed.append(err)
        finally:
            control.loading_ended()

    threading.Thread(target=load, name="alignprop-load", daemon=True).start()
    if not control.wait_for_load():
        return None
    if failed:
        raise failed[0]
    return loaded[0]
