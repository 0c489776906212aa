"""Prints messages the Python wire makes, one per line: `<type>\t<base64 of the binary>\t<to_json_line>`, for
json-lines.test.ts to decode with protobuf-es and compare with its toJsonString byte for byte. Seeded: the same corpus
every run. Numbers cover every magnitude (random bit patterns), the edges of JavaScript's number format, -0, NaN and
the infinities; strings cover quotes, backslashes, control characters, non-ASCII and astral characters."""

import base64
import math
import random
import struct
import sys

from google.protobuf.message import Message

from alignprop_torch.gen.alignprop.v1 import alignprop_pb2 as pb
from alignprop_torch.wire.json_lines import to_json_line

EDGE_NUMBERS = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.1,
    1e21,
    1e20,
    1e-7,
    1e-6,
    1.5e-7,
    123456789.125,
    2.0**53,
    2.0**53 + 2,
    5e-324,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    1 / 3,
    100.0,
    1e300,
    4.35e-5,
]
STRINGS = [
    "",
    "plain",
    'a "quoted" \\ backslash',
    "tab\tnew\nline\r\x00\x01\x1f\x7f",
    "päused ✓ 画像 🎨",
    "\u2028\u2029",
    "</script>",
]


def random_double(rng: random.Random) -> float:
    while True:
        x = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if not math.isnan(x):
            return x


def corpus(rng: random.Random) -> list[Message]:
    numbers = EDGE_NUMBERS + [random_double(rng) for _ in range(300)] + [rng.uniform(-10, 10) for _ in range(100)]
    messages: list[Message] = []
    for i in range(0, len(numbers), 7):
        chunk = (numbers[i : i + 7] + [0.0] * 7)[:7]
        metrics = pb.Metrics(
            step=i,
            epoch=i + 1,
            loss=chunk[0],
            reward_mean=chunk[1],
            reward_std=chunk[2],
            reward_min=chunk[3],
            reward_max=chunk[4],
            grad_norm=chunk[5],
            lr=chunk[6],
            tf_tensors=2**32 - 1,
            tf_bytes=2.0**40,
        )
        metrics.scalars.update({"kl": chunk[0], "approx_kl": chunk[1], "clip_fraction": chunk[2]})
        messages.append(pb.Event(run_id="run-π", seq=i + 1, time_unix_ms=1.7e12 + i, metrics=metrics))
    for j, text in enumerate(STRINGS):
        image = pb.Image(
            png=bytes(range(j * 7 % 256, j * 7 % 256 + j)),
            prompt=text,
            prompt_metadata_json='{"k":1}',
            reward=EDGE_NUMBERS[j],
            width=8,
            height=8,
            path=f"images/step-{j}/0.png",
        )
        messages.append(pb.Event(seq=j, images=pb.ImageBatch(step=j, images=[image, image], pixels_dropped=j % 2 == 0)))
        messages.append(pb.Event(seq=j, status=pb.Status(state=j, message=text, run_dir=text, backend="cpu")))
        messages.append(pb.Event(seq=j, log=pb.Log(level=j % 5, message=text)))
        messages.append(pb.Event(error=pb.Error(message=text, source="process", exit_code=-j, signal="SIGKILL")))
        messages.append(pb.Event(checkpoint=pb.CheckpointSaved(step=j, path=text, reason="final")))
        # Several keys, integer-like ones too: both writers sort a map's keys (JavaScript then puts indices first).
        monitors = {text: EDGE_NUMBERS[j], "fidelity": 0.5, "10": 1.0, "2": -j, "drift": 0.25}
        batch = pb.ImageBatch(step=j, images=[image])
        result = pb.EvalResult(step=j, monitors=monitors, images=batch, seeds=[j, 2**32 - 1])
        messages.append(pb.Event(seq=j, eval=result))
    messages.append(pb.Event(status=pb.Status(state=99)))  # an enum value this version does not know
    hello = pb.Hello(protocol_major=1, agent="a", run_id="r", instance_id="i", start_seq=7)
    snapshot = pb.Snapshot(
        run_id="r",
        seq=3,
        first_seq=1,
        status=pb.Status(state=2),
        config_json='{"a":1}',
        events=messages[:3],
        bad_frames=5,
    )
    messages.append(pb.CommandResult(id="c", ok=True, message="m", state=3, hello=hello, snapshot=snapshot))
    messages.append(pb.Command(id="c", protocol_major=1, snapshot=pb.SnapshotRequest(after_seq=0)))
    return messages


def main() -> None:
    for message in corpus(random.Random(2024)):
        binary = base64.b64encode(message.SerializeToString()).decode("ascii")
        sys.stdout.write(f"{message.DESCRIPTOR.name}\t{binary}\t{to_json_line(message)}\n")


if __name__ == "__main__":
    main()
