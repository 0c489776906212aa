"""The run's lifecycle and the commands that steer it (the Python side of src/trainer/run-state.ts and of
`Trainer.handle`/`boundary` in src/trainer/trainer.ts): STARTING → RUNNING ⇄ PAUSED → STOPPING → DONE | FAILED
(FAILED from anywhere; STARTING → STOPPING when stopped while loading). The socket thread calls `handle`, which only
records the request and answers at once; the training thread obeys at step boundaries, where a paused run waits on a
condition variable without using CPU. While STARTING (loading) stop ends the run before step 1, pause holds it before
step 1 and checkpoint_now is refused: nothing has been trained."""

from __future__ import annotations

import threading
from collections.abc import Callable

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.options import RunCommand, RunCommandOutcome

State = pb.RunState.ValueType

NEXT: dict[State, tuple[State, ...]] = {
    pb.RUN_STATE_UNSPECIFIED: (pb.RUN_STATE_STARTING,),
    pb.RUN_STATE_STARTING: (pb.RUN_STATE_RUNNING, pb.RUN_STATE_STOPPING, pb.RUN_STATE_FAILED),
    pb.RUN_STATE_RUNNING: (pb.RUN_STATE_PAUSED, pb.RUN_STATE_STOPPING, pb.RUN_STATE_FAILED),
    pb.RUN_STATE_PAUSED: (pb.RUN_STATE_RUNNING, pb.RUN_STATE_STOPPING, pb.RUN_STATE_FAILED),
    pb.RUN_STATE_STOPPING: (pb.RUN_STATE_DONE, pb.RUN_STATE_FAILED),
    pb.RUN_STATE_DONE: (),
    pb.RUN_STATE_FAILED: (),
}


def state_name(state: State) -> str:
    return pb.RunState.Name(state).removeprefix("RUN_STATE_").lower()


class RunControl:
    def __init__(self, step: int = 0) -> None:
        self._lock = threading.Condition()
        self._state: State = pb.RUN_STATE_STARTING
        self.step = step
        self._pause_requested = False
        self._resume_requested = False
        self._stop_requested = False
        self._checkpoint_requested = False
        self._loaded = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def to(self, next_state: State) -> None:
        """Moves the run on; an impossible transition is a bug in the trainer, so it raises."""
        with self._lock:
            if next_state not in NEXT[self._state]:
                raise RuntimeError(f"run state cannot go from {state_name(self._state)} to {state_name(next_state)}")
            self._state = next_state

    def handle(self, command: RunCommand) -> RunCommandOutcome:
        """Pause, resume, stop and checkpoint_now, all idempotent (called on the socket thread)."""
        with self._lock:
            state, step = self._state, self.step
            if state in (pb.RUN_STATE_DONE, pb.RUN_STATE_FAILED, pb.RUN_STATE_STOPPING):
                return RunCommandOutcome(command == "stop", f"run is already {state_name(state)}", state)
            loading = state == pb.RUN_STATE_STARTING
            if command == "pause":
                if state == pb.RUN_STATE_PAUSED:
                    return RunCommandOutcome(True, "already paused", state)
                self._pause_requested = True
                pausing = f"loading; will pause before step {step + 1}" if loading else f"pausing after step {step + 1}"
                return RunCommandOutcome(True, pausing, state)
            if command == "resume":
                self._pause_requested = False
                if state != pb.RUN_STATE_PAUSED:
                    running = "loading; will run when ready" if loading else "already running"
                    return RunCommandOutcome(True, running, state)
                self._resume_requested = True
                self._lock.notify_all()
                return RunCommandOutcome(True, f"resuming at step {step + 1}", pb.RUN_STATE_RUNNING)
            if command == "stop":
                self._stop_requested = True
                self._lock.notify_all()
                if loading:
                    return RunCommandOutcome(True, "stopping while loading: the run ends before its first step", state)
                in_progress = "" if state == pb.RUN_STATE_PAUSED else " + the step in progress"
                return RunCommandOutcome(True, f"stopping after step {step}{in_progress}", state)
            if loading:
                return RunCommandOutcome(False, "no checkpoint while loading: nothing has been trained yet", state)
            self._checkpoint_requested = True
            self._lock.notify_all()
            return RunCommandOutcome(True, f"checkpoint at the next step boundary (step {step})", state)

    def loading_ended(self) -> None:
        """The loader thread is done (loaded or failed): wakes `wait_for_load`."""
        with self._lock:
            self._loaded = True
            self._lock.notify_all()

    def wait_for_load(self) -> bool:
        """Training thread, while STARTING: waits without CPU for `loading_ended` or a stop; False when stopped."""
        with self._lock:
            while not self._loaded and not self._stop_requested:
                self._lock.wait()
            return not self._stop_requested

    def boundary(self, checkpoint: Callable[[str], None], announce: Callable[[str], None]) -> None:
        """Step boundary (training thread): take a requested checkpoint, and stay here while paused, without CPU.
        `checkpoint(reason)` saves; `announce(message)` publishes the status after a state change."""
        if self._take_checkpoint_request():
            checkpoint("requested")
        with self._lock:
            if not self._pause_requested or self._stop_requested:
                return
            self._pause_requested = False
            self._resume_requested = False
            self.to(pb.RUN_STATE_PAUSED)
        announce(f"paused after step {self.step}")
        while True:
            if self._take_checkpoint_request():
                checkpoint("requested")
            with self._lock:
                if self._stop_requested:
                    return
                if self._resume_requested:
                    self.to(pb.RUN_STATE_RUNNING)
                    break
                if not self._checkpoint_requested:
                    self._lock.wait()
        announce(f"resumed at step {self.step}")

    def _take_checkpoint_request(self) -> bool:
        with self._lock:
            requested, self._checkpoint_requested = self._checkpoint_requested, False
            return requested
