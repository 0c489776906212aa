"""Commands are answered at once and obeyed at step boundaries; a paused run waits without spinning."""

import threading

import pytest

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.trainer.run_control import RunControl


def test_an_impossible_transition_is_a_bug_named_by_both_states():
    control = RunControl()
    with pytest.raises(RuntimeError, match="run state cannot go from starting to done"):
        control.to(pb.RUN_STATE_DONE)


def test_pause_is_taken_at_the_boundary_is_idempotent_and_resume_continues():
    control = RunControl(step=4)
    control.to(pb.RUN_STATE_RUNNING)
    announced: list[str] = []
    paused = threading.Event()

    def announce(message: str) -> None:
        announced.append(message)
        if control.state == pb.RUN_STATE_PAUSED:
            paused.set()

    ack = control.handle("pause")
    assert (ack.ok, ack.message, ack.state) == (True, "pausing after step 5", pb.RUN_STATE_RUNNING)
    boundary = threading.Thread(target=control.boundary, args=(lambda reason: None, announce))
    boundary.start()
    assert paused.wait(10)
    again = control.handle("pause")
    assert (again.ok, again.message, again.state) == (True, "already paused", pb.RUN_STATE_PAUSED)
    resumed = control.handle("resume")
    assert (resumed.ok, resumed.state) == (True, pb.RUN_STATE_RUNNING)
    boundary.join(10)
    assert not boundary.is_alive()
    assert announced == ["paused after step 4", "resumed at step 4"]
    assert control.handle("resume").message == "already running"


def test_checkpoint_now_while_paused_saves_at_once_and_stop_ends_the_pause():
    control = RunControl(step=2)
    control.to(pb.RUN_STATE_RUNNING)
    control.handle("pause")
    saved = threading.Event()
    reasons: list[str] = []

    def checkpoint(reason: str) -> None:
        reasons.append(reason)
        saved.set()

    boundary = threading.Thread(target=control.boundary, args=(checkpoint, lambda message: None))
    boundary.start()
    assert control.handle("checkpoint_now").ok
    assert saved.wait(10)
    stop = control.handle("stop")
    assert (stop.ok, stop.message) == (True, "stopping after step 2")
    boundary.join(10)
    assert not boundary.is_alive() and reasons == ["requested"]
    control.to(pb.RUN_STATE_STOPPING)
    late = control.handle("pause")
    assert (late.ok, late.message) == (False, "run is already stopping")
    assert control.handle("stop").ok
