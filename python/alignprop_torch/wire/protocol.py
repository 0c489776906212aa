"""Wire-level constants and framing, the twin of src/bridge/protocol.ts: the protocol version, PUB topics, and the
encode/decode pair for each frame kind. Frames are decoded defensively: a malformed frame is an error value for the
caller to count or answer, never an exception out of the socket loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb

# Equal to src/bridge/protocol.ts (test/bridge-python checks the handshake): a peer with another major is refused.
PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 2  # 1: the Progress event; 2: the EvalResult event (the torch engine sends none yet)

# The PUB topic of an event is the name of its payload case.
TOPICS: tuple[str, ...] = tuple(f.name for f in pb.Event.DESCRIPTOR.oneofs_by_name["payload"].fields)

# How long a trainer that has ended (DONE or FAILED) keeps answering before it closes, unless a client confirms first
# that it has every event (a snapshot request for nothing after the last seq; the TS client sends one on the terminal
# event): a client that was reconnecting when the last frames went out fetches them in that time. Equal to
# src/bridge/protocol.ts's FINAL_GRACE_MS.
FINAL_GRACE_S = 5.0

# Largest frame either side accepts: a snapshot with a few full-size image batches fits; a runaway frame does not.
MAX_FRAME_BYTES = 64 * 1024 * 1024

M = TypeVar("M", bound=Message)


@dataclass(frozen=True)
class Decoded(Generic[M]):
    """A decoded frame (`value`) or why it is not one (`error`)."""

    value: M | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.value is not None


def _decode(what: str, frame: bytes | None, parse: Callable[[bytes], M]) -> Decoded[M]:
    if frame is None:
        return Decoded(error=f"{what} frame missing")
    if len(frame) > MAX_FRAME_BYTES:
        return Decoded(error=f"{what} frame of {len(frame)} bytes exceeds the limit of {MAX_FRAME_BYTES}")
    try:
        return Decoded(parse(frame))
    except DecodeError as err:
        return Decoded(error=f"{what} frame is not valid protobuf: {err}")


def decode_command(frame: bytes | None) -> Decoded[pb.Command]:
    return _decode("Command", frame, pb.Command.FromString)


def decode_event(frame: bytes | None) -> Decoded[pb.Event]:
    return _decode("Event", frame, pb.Event.FromString)


def decode_result(frame: bytes | None) -> Decoded[pb.CommandResult]:
    return _decode("CommandResult", frame, pb.CommandResult.FromString)


def topic_of(event: pb.Event) -> str:
    return event.WhichOneof("payload") or "unknown"
