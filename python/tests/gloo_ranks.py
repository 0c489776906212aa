"""A data-parallel job's ranks in tests: `world` processes on this machine joined over gloo, each started with the
environment `accelerate launch` (torchrun) gives a rank, then running `target(rank, *args)`."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

import torch
import torch.multiprocessing as mp


def spawn_ranks(target: Callable[..., None], world: int, *args: Any) -> None:
    """Runs the ranks to the end; a rank that raises fails the call. `target` is a module-level function."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(as_rank, args=(world, port, target, args), nprocs=world, join=True)


def as_rank(rank: int, world: int, port: int, target: Callable[..., None], args: tuple[Any, ...]) -> None:
    os.environ |= {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "RANK": str(rank),
        "LOCAL_RANK": str(rank),
        "WORLD_SIZE": str(world),
        "OMP_NUM_THREADS": "1",  # else accelerate gives each rank cores / ranks threads, too many on a shared CPU
    }
    try:
        target(rank, *args)
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()  # else gloo may abort the process at exit
