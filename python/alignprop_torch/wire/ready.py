"""The ready line: one compact JSON line on stdout once the sockets are bound, the same keys in the same order as the
TS trainer prints (src/bridge/spawn.ts `ReadyLine`, which `spawnTrainer` waits for)."""

from __future__ import annotations

import json
import os
import sys

from alignprop_torch.wire.options import Endpoints


def ready_line(run_id: str, run_dir: str, endpoints: Endpoints, pid: int | None = None) -> str:
    ready = {
        "alignprop": "ready",
        "runId": run_id,
        "runDir": run_dir,
        "control": endpoints.control,
        "events": endpoints.events,
        "observe": endpoints.observe,
        "pid": os.getpid() if pid is None else pid,
    }
    return json.dumps(ready, ensure_ascii=False, separators=(",", ":"))


def announce_ready(run_id: str, run_dir: str, endpoints: Endpoints) -> None:
    sys.stdout.write(ready_line(run_id, run_dir, endpoints) + "\n")
    sys.stdout.flush()
