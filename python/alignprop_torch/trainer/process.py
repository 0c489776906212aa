"""A trainer process around a job: binds the wire, prints the ready line, stops on SIGINT/SIGTERM like the stop
command (a second signal exits at once), runs the loop and exits 0 when DONE, 1 when FAILED, as src/trainer/main.ts.
In a data-parallel job only rank 0 does the first two; the other ranks run the same loop beside it (data_parallel)."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

from alignprop_torch.distributed import Ranks
from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.run_dir import EventsWriter
from alignprop_torch.trainer.args import TrainerArgs
from alignprop_torch.trainer.data_parallel import JobOfRanks, SilentServer, coordination
from alignprop_torch.trainer.progress import ProgressListener
from alignprop_torch.trainer.run_control import RunControl
from alignprop_torch.trainer.run_loop import Job, RunLoop, RunSettings
from alignprop_torch.trainer.trackers import RunTracker
from alignprop_torch.wire.options import TrainerServerOptions
from alignprop_torch.wire.ready import announce_ready
from alignprop_torch.wire.server import TrainerServer


def stop_on_signals(control: RunControl) -> None:
    received: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signum)
        if len(received) > 1:
            sys.exit(130)
        name = signal.Signals(signum).name
        sys.stderr.write(f"alignprop trainer: {name}: stopping after the current step (again to exit now)\n")
        # The handler runs on the training thread, perhaps inside RunControl: ask from another thread.
        threading.Thread(target=control.handle, args=("stop",)).start()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)


def run_trainer(
    args: TrainerArgs,
    agent: str,
    settings: RunSettings,
    job_factory: Callable[[ProgressListener], Job],
    save_checkpoint: Callable[[int, int], str] | None = None,
    start_step: int = 0,
    start_seq: int = 0,
    tracker: RunTracker | None = None,
    ranks: Ranks | None = None,
) -> int:
    """Serves one run; the job is built (`job_factory(progress)`) after the ready line, while the run is STARTING. A
    resumed run starts at its checkpoint's step, numbering events after the checkpoint's seq. A `tracker` (log_with)
    starts with the job, sees every event events.jsonl records, and ends with the run. On a rank other than 0 of
    `ranks`, runs the loop with no wire, no events and no tracker."""
    ranks = ranks or Ranks()
    run_dir = args.config.parent.resolve()
    control = RunControl(step=start_step, coordination=coordination(ranks))
    stop_on_signals(control)
    if ranks.world_size > 1:
        inner = job_factory
        job_factory = lambda progress: JobOfRanks(inner(progress), ranks)  # noqa: E731
    if not ranks.leads:
        return RunLoop(job_factory, settings, SilentServer(), control, run_dir, save_checkpoint).run()
    events = EventsWriter(run_dir)

    def record(event: pb.Event) -> None:
        events.append(event)
        if tracker is not None:
            tracker.write(event)

    def load(progress: ProgressListener) -> Job:
        if tracker is not None:
            tracker.start()
        return job_factory(progress)

    server = TrainerServer.bind(
        TrainerServerOptions(
            endpoints=args.endpoints,
            run_id=run_dir.name,
            config_json=args.config.read_text(encoding="utf-8"),
            agent=agent,
            handle=control.handle,
            curve=args.curve,
            start_seq=start_seq,
            record=record,
        )
    )
    loop = RunLoop(load, settings, server, control, run_dir, save_checkpoint)
    try:
        announce_ready(run_dir.name, str(run_dir), server.endpoints)
        code = loop.run()
    finally:
        if tracker is not None:
            tracker.end()
        server.close()
        events.close()
    if loop.load_abandoned:
        end_now(code)
    return code


def end_now(code: int) -> None:
    """Ends the process at once, as the TS trainer's process.exit does: a loader thread abandoned by a stop may still be
    in a download or writing a library's warning, and the interpreter's shutdown can abort on a daemon thread holding
    stderr. Everything of the run is written and closed by now."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def exit_with(main: Callable[[], int]) -> None:
    """Exits with main's code; bad arguments, key files or endpoints are one line on stderr, as the TS trainer says."""
    try:
        code = main()
    except (OSError, ValueError) as err:
        sys.stderr.write(f"alignprop trainer failed: {err}\n")
        code = 1
    sys.exit(code)
