"""Frames are decoded defensively: bad bytes are an error value naming the frame kind, never an exception."""

import random

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.protocol import (
    MAX_FRAME_BYTES,
    TOPICS,
    decode_command,
    decode_event,
    decode_result,
)

DECODERS = {"Event": decode_event, "Command": decode_command, "CommandResult": decode_result}


def test_topics_are_the_event_payload_cases_in_order():
    assert TOPICS == ("status", "metrics", "images", "log", "error", "checkpoint", "progress", "eval")


def test_an_event_survives_encode_then_decode_unchanged():
    event = pb.Event(run_id="run-1", seq=4_000_000_000, metrics=pb.Metrics(step=9, loss=-0.125, tf_bytes=2.0**40))
    decoded = decode_event(event.SerializeToString())
    assert decoded.ok and decoded.value == event


def test_a_missing_frame_is_an_error_naming_the_frame_kind():
    for what, decode in DECODERS.items():
        assert decode(None).error == f"{what} frame missing"


def test_garbage_is_an_error_saying_it_is_not_valid_protobuf():
    garbage = [b"\xff" * 11, b"\x0a\x64\x61", b"\x07", b"hello, trainer"]
    for frame in garbage:
        for what, decode in DECODERS.items():
            decoded = decode(frame)
            assert not decoded.ok
            assert decoded.error.startswith(f"{what} frame is not valid protobuf: ")


def test_an_empty_frame_is_the_all_default_message():
    decoded = decode_command(b"")
    assert decoded.ok and decoded.value.protocol_major == 0 and decoded.value.WhichOneof("kind") is None


def test_random_bytes_never_raise():
    rng = random.Random(7)
    for _ in range(2000):
        frame = bytes(rng.randrange(256) for _ in range(rng.randrange(64)))
        for decode in DECODERS.values():
            decoded = decode(frame)
            assert decoded.ok or decoded.error


def test_a_frame_over_the_limit_is_refused_by_size_without_parsing():
    big = bytes(MAX_FRAME_BYTES + 1)
    for what, decode in DECODERS.items():
        expected = f"{what} frame of {MAX_FRAME_BYTES + 1} bytes exceeds the limit of {MAX_FRAME_BYTES}"
        assert decode(big).error == expected
