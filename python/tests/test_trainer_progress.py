"""Start-up progress is throttled per phase as src/trainer/progress.ts does it (test/trainer/progress.test.ts): at most
one event per interval, the latest held-back one once the interval ends, the completing one at once."""

import threading

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.progress import ProgressThrottle, ProgressUpdate


def update(done: float, items_done: int = 0, phase: str = "download") -> ProgressUpdate:
    return ProgressUpdate(phase, "unet", done, 1000, "bytes", items_done, 2)


class Sent:
    def __init__(self) -> None:
        self.progress: list[pb.Progress] = []
        self.arrived = threading.Semaphore(0)

    def __call__(self, p: pb.Progress) -> None:
        self.progress.append(p)
        self.arrived.release()


def test_progress_is_published_at_most_once_per_interval_the_latest_when_it_ends_and_always_when_complete():
    now = [0.0]
    sent = Sent()
    # The held-back update's timer runs in real time: 1 s here, ample for the test to move its clock on first.
    throttle = ProgressThrottle(sent, interval=2, now=lambda: now[0])
    throttle.report(update(0))
    now[0] = 1.0
    throttle.report(update(100))
    throttle.report(update(300))
    assert [p.done for p in sent.progress] == [0], "updates inside the interval wait"
    now[0] = 2.0
    assert sent.arrived.acquire(timeout=10) and sent.arrived.acquire(timeout=10)
    assert [p.done for p in sent.progress] == [0, 300], "the latest held-back update goes out when the interval ends"
    assert sent.progress[1].rate == 150, "300 bytes in 2 s"
    now[0] = 2.5
    throttle.report(update(1000, items_done=2))
    assert [p.done for p in sent.progress] == [0, 300, 1000], "the completing update is never held back"
    assert sent.progress[2].items_done == 2


def test_each_phase_has_its_own_interval_and_rate():
    now = [0.0]
    sent = Sent()
    throttle = ProgressThrottle(sent, interval=0.2, now=lambda: now[0])
    throttle.report(update(10))
    now[0] = 0.05
    throttle.report(ProgressUpdate("load", "vae", 1, 4, "components", 1, 4))
    assert [p.phase for p in sent.progress] == ["download", "load"]
    assert sent.progress[1].rate == 0, "no rate at a phase's first report"
