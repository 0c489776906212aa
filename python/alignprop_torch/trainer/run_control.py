"""The run's lifecycle and the commands that steer it (the Python side of src/trainer/run-state.ts and of
`Trainer.handle`/`boundary` in src/trainer/trainer.ts): STARTING → RUNNING ⇄ PAUSED → STOPPING → DONE | FAILED
(FAILED from anywhere; STARTING → STOPPING when stopped while loading). The socket thread calls `handle`, which only
records the request and answers at once; the training thread obeys at step boundaries, where a paused run waits on a
condition variable without using CPU. While STARTING (loading) stop ends the run before step 1, pause holds it before
step 1 and checkpoint_now is refused: nothing has been trained.

In a data-parallel job every rank runs the same loop and must take the same decision at the same boundary: the
requests rank 0 takes there are shared with the others (`Coordination.share`, a broadcast), and every rank obeys
the shared ones; only rank 0 receives commands. A stop while loading then waits for the load and is obeyed at the
first boundary, before step 1, on every rank."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Requests:
    """What a step boundary obeys: the run pauses there, resumes, stops, or saves a checkpoint."""

    pause: bool = False
    resume: bool = False
    stop: bool = False
    checkpoint: bool = False


@dataclass(frozen=True)
class Coordination:
    """How one rank's boundaries agree with the job's (a single process: trivially)."""

    #: Rank 0's requests, on every rank (each rank passes its own; rank 0's win).
    share: Callable[[Requests], Requests] = lambda requests: requests
    #: Rank 0: receives the commands and, while paused, waits for them.
    leads: bool = True
    #: While paused, rank 0 shares at least this often, so the waiting ranks stay inside the collective timeout.
    idle_seconds: float | None = None
    #: No other rank: a stop while loading abandons the load (with peers it is obeyed at the first boundary).
    alone: bool = True


class RunControl:
    def __init__(self, step: int = 0, coordination: Coordination | None = None) -> None:
        self._lock = threading.Condition()
        self._state: State = pb.RUN_STATE_STARTING
        self.step = step
        self.coordination = coordination or Coordination()
        self._pause_requested = False
        self._resume_requested = False
        self._stop_requested = False
        self._checkpoint_requested = False
        self._loaded = False
        #: A stop obeyed at a boundary (the same step on every rank).
        self._stopping = False

    @property
    def state(self) -> State:
        return self._state

    @property
    def stop_requested(self) -> bool:
        """A stop taken at a step boundary: every rank of the job sees it after the same step."""
        return self._stopping

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
        """Training thread, while STARTING: waits without CPU for `loading_ended` or (alone) a stop; False when a stop
        abandons the load."""
        with self._lock:
            abandon = self.coordination.alone
            while not self._loaded and not (abandon and self._stop_requested):
                self._lock.wait()
            return not (abandon and self._stop_requested)

    def boundary(self, checkpoint: Callable[[str], None], announce: Callable[[str], None]) -> None:
        """Step boundary (training thread): take a requested checkpoint, and stay here while paused, without CPU.
        `checkpoint(reason)` saves; `announce(message)` publishes the status after a state change."""
        requests = self._obey(self._take(running=True))
        if requests.checkpoint:
            checkpoint("requested")
        if not requests.pause:
            return
        announce(f"paused after step {self.step}")
        while True:
            requests = self._obey(self._take(running=False))
            if requests.checkpoint:
                checkpoint("requested")
            if requests.stop:
                return
            if requests.resume:
                break
        announce(f"resumed at step {self.step}")

    def _take(self, running: bool) -> Requests:
        """This rank's requests for the boundary, taken under the lock with the state change they cause, so a command
        is answered either before or after it. While paused, rank 0 first waits (without CPU) for a command."""
        with self._lock:
            pending = self._stop_requested or self._resume_requested or self._checkpoint_requested
            if not running and self.coordination.leads and not pending:
                self._lock.wait(self.coordination.idle_seconds)
            checkpoint, self._checkpoint_requested = self._checkpoint_requested, False
            stop = self._stop_requested
            if running:
                pause = self._pause_requested and not stop and self.coordination.leads
                if pause:
                    self._pause_requested = self._resume_requested = False
                    self.to(pb.RUN_STATE_PAUSED)
                return Requests(pause=pause, stop=stop, checkpoint=checkpoint)
            resume = self._resume_requested and not stop and self.coordination.leads
            if resume:
                self.to(pb.RUN_STATE_RUNNING)
            return Requests(resume=resume, stop=stop, checkpoint=checkpoint)

    def _obey(self, mine: Requests) -> Requests:
        """The job's requests (rank 0's); a rank that does not lead follows rank 0's state."""
        requests = self.coordination.share(mine)
        if not self.coordination.leads:
            if requests.pause:
                self.to(pb.RUN_STATE_PAUSED)
            if requests.resume:
                self.to(pb.RUN_STATE_RUNNING)
        self._stopping = self._stopping or requests.stop
        return requests
