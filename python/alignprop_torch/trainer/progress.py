"""Start-up progress as `Progress` events, the twin of src/trainer/progress.ts: a loader reports its counts as often as
it likes; this adds the rate since the phase began and lets through at most one event per `interval` seconds per phase
(always the one that completes it, and the latest one once the interval has passed), so loading many small pieces
cannot flood the stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb


@dataclass(frozen=True)
class ProgressUpdate:
    """One report from a loader: `Progress` without the rate."""

    phase: str  # "download" | "load"
    item: str
    done: float
    total: float
    unit: str  # "bytes" | "components"
    items_done: int
    items_total: int


ProgressListener = Callable[[ProgressUpdate], None]


@dataclass
class _Phase:
    start: float
    last: float = float("-inf")
    pending: ProgressUpdate | None = None
    timer: threading.Timer | None = field(default=None, repr=False)


class ProgressThrottle:
    def __init__(
        self, publish: Callable[[pb.Progress], object], interval: float = 0.2, now: Callable[[], float] = time.monotonic
    ) -> None:
        self._publish, self._interval, self._now = publish, interval, now
        self._lock = threading.Lock()
        self._phases: dict[str, _Phase] = {}

    def report(self, u: ProgressUpdate) -> None:
        """Publishes now, or (held back) once the interval has passed, so a stalled load still shows its last count."""
        with self._lock:
            t = self._now()
            phase = self._phases.setdefault(u.phase, _Phase(start=t))
            complete = u.items_total > 0 and u.items_done >= u.items_total
            wait = phase.last + self._interval - t
            if complete or wait <= 0:
                self._send(phase, u)
                return
            phase.pending = u
            if phase.timer is None:
                phase.timer = threading.Timer(wait, self._flush, (phase,))
                phase.timer.daemon = True
                phase.timer.start()

    def _flush(self, phase: _Phase) -> None:
        with self._lock:
            if phase.pending is not None:
                self._send(phase, phase.pending)

    def _send(self, phase: _Phase, u: ProgressUpdate) -> None:
        if phase.timer is not None:
            phase.timer.cancel()
        phase.timer, phase.pending = None, None
        phase.last = self._now()
        seconds = phase.last - phase.start
        self._publish(
            pb.Progress(
                phase=u.phase,
                item=u.item,
                done=u.done,
                total=u.total,
                unit=u.unit,
                rate=u.done / seconds if seconds > 0 else 0.0,
                items_done=u.items_done,
                items_total=u.items_total,
            )
        )


def component_loading(report: ProgressListener, total: int) -> Callable[[str, int], None]:
    """`(item, done)` → a "load" update counting components, as src/trainer/jobs.ts reports its models and reward."""
    return lambda item, done: report(
        ProgressUpdate(
            phase="load", item=item, done=done, total=total, unit="components", items_done=done, items_total=total
        )
    )
