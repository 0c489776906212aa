"""What a TrainerServer is told (the options of src/bridge/server.ts) and what the trainer answers to a run command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.curve import KeyPair
from alignprop_torch.wire.zap import ZapPolicy

RunCommand = Literal["pause", "resume", "stop", "checkpoint_now"]
MUTATING: frozenset[str] = frozenset(("pause", "resume", "stop", "checkpoint_now"))


@dataclass(frozen=True)
class RunCommandOutcome:
    ok: bool
    message: str
    state: pb.RunState.ValueType


RunCommandHandler = Callable[[RunCommand], RunCommandOutcome]


@dataclass(frozen=True)
class Endpoints:
    control: str
    events: str
    observe: str


@dataclass(frozen=True)
class CurveServer:
    """Encrypt and authenticate: the server's key pair and who may connect."""

    keys: KeyPair
    policy: ZapPolicy


@dataclass(frozen=True)
class TrainerServerOptions:
    endpoints: Endpoints
    run_id: str
    config_json: str
    agent: str
    handle: RunCommandHandler
    ring_capacity: int = 20_000
    keep_image_batches: int = 4
    # Frames queued for PUB before shedding.
    publish_queue_limit: int = 1000
    # Seq of the last event published before this process (a resumed run continues the numbering).
    start_seq: int = 0
    curve: CurveServer | None = None
    # Called with each event before any socket can carry it (the trainer appends it to events.jsonl), so a client
    # never sees an event that a crash right after could leave out of the log.
    record: Callable[[pb.Event], None] | None = None
