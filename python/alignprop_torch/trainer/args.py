"""The trainer process's command line, the same as src/trainer/main.ts takes from spawnTrainer:
`--config <run dir>/config.json --control <e> --events <e> --observe <e> [--server-key <dir> --allow <path>...
--allow-observer <path>...] [--resume <checkpoint dir>] [--warning <text>...]`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from alignprop_torch.wire.curve import read_allow_list, read_key_pair
from alignprop_torch.wire.options import CurveServer, Endpoints
from alignprop_torch.wire.zap import ZapPolicy


@dataclass(frozen=True)
class TrainerArgs:
    config: Path
    endpoints: Endpoints
    curve: CurveServer | None
    resume: Path | None
    warnings: tuple[str, ...]


def trainer_arg_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--config", required=True, type=Path, help="<run dir>/config.json, validated by the CLI")
    for name in ("control", "events", "observe"):
        parser.add_argument(f"--{name}", required=True, help=f"the {name} endpoint to bind")
    parser.add_argument("--server-key", type=Path, help="CURVE: the trainer's key directory (alignprop keygen)")
    parser.add_argument("--allow", action="append", default=[], help="CURVE: controller public keys (file or dir)")
    parser.add_argument("--allow-observer", action="append", default=[], help="CURVE: observer public keys")
    parser.add_argument("--resume", type=Path, help="a checkpoint directory to continue from")
    parser.add_argument("--warning", action="append", default=[], help="a config warning to publish at start")
    return parser


def trainer_args(ns: argparse.Namespace) -> TrainerArgs:
    curve = None
    if ns.server_key:
        policy = ZapPolicy(tuple(read_allow_list(ns.allow)), tuple(read_allow_list(ns.allow_observer)))
        curve = CurveServer(keys=read_key_pair(ns.server_key), policy=policy)
    return TrainerArgs(
        config=ns.config,
        endpoints=Endpoints(control=ns.control, events=ns.events, observe=ns.observe),
        curve=curve,
        resume=ns.resume,
        warnings=tuple(ns.warning),
    )
