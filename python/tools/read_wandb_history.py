"""Reads an offline wandb run (`<dir>/wandb/offline-run-*/`) and prints what it logged as JSON: the run's project, name,
tags and config, each history row (`_step` and its values), and the media files it saved.

wandb 0.31 writes the run as `run-<id>.wandb`, protobuf `Record`s (wandb.proto.wandb_internal_pb2) in the LevelDB log
framing its service uses, and ships no Python reader for it (its old `sdk.internal.datastore` went with the Python
service): the framing is read here, each record's CRC checked, and the records parsed with wandb's own protobufs.
Framing: a 7-byte header (":W&B", 0xBEE1 little-endian, version 0), then 32 KiB blocks of chunks, each
`crc32 (4, LE) | length (2, LE) | type (1: full, 2: first, 3: middle, 4: last) | data`, the CRC over type and data
(zlib's CRC32); a block's tail shorter than a chunk header is zero padding.
"""

import json
import struct
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

from wandb.proto import wandb_internal_pb2 as wpb

HEADER = b":W&B" + struct.pack("<HB", 0xBEE1, 0)
BLOCK = 32 * 1024
CHUNK_HEADER = 7
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(data: bytes) -> Iterator[bytes]:
    if not data.startswith(HEADER):
        raise ValueError(f"not a wandb run file (header {data[:7]!r})")
    pos, pending = len(HEADER), b""
    while pos + CHUNK_HEADER <= len(data):
        left_in_block = BLOCK - pos % BLOCK
        if left_in_block < CHUNK_HEADER:
            pos += left_in_block
            continue
        crc, length, kind = struct.unpack_from("<IHB", data, pos)
        if kind == 0 and length == 0:  # the zero padding at a file's unfinished end
            break
        chunk = data[pos + CHUNK_HEADER : pos + CHUNK_HEADER + length]
        if zlib.crc32(chunk, zlib.crc32(bytes([kind]))) != crc:
            raise ValueError(f"bad CRC at byte {pos}")
        pos += CHUNK_HEADER + length
        if kind == FULL:
            yield chunk
        elif kind == FIRST:
            pending = chunk
        elif kind == MIDDLE:
            pending += chunk
        elif kind == LAST:
            yield pending + chunk
        else:
            raise ValueError(f"unknown chunk type {kind} at byte {pos}")


def read_run(run_dir: Path) -> dict:
    (run_file,) = run_dir.glob("run-*.wandb")
    out: dict = {"project": None, "name": None, "tags": [], "config": {}, "history": [], "media": []}
    for raw in records(run_file.read_bytes()):
        record = wpb.Record()
        record.ParseFromString(raw)
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            out["project"], out["name"], out["tags"] = run.project, run.display_name, list(run.tags)
            out["config"].update({item.key: json.loads(item.value_json) for item in run.config.update})
        elif kind == "config":
            out["config"].update({item.key: json.loads(item.value_json) for item in record.config.update})
        elif kind == "history":
            row = {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
            out["history"].append(row)
    out["media"] = sorted(str(p.relative_to(run_dir)) for p in (run_dir / "files" / "media").rglob("*.png"))
    return out


if __name__ == "__main__":
    runs = sorted(Path(sys.argv[1]).glob("wandb/offline-run-*"))
    print(json.dumps([read_run(run) for run in runs]))
