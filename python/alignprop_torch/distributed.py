"""The ranks of a data-parallel job, started by `accelerate launch` (torch.distributed's elastic agent underneath):
who this process is, and the few collectives a training job needs, all through accelerate's operations (gloo on a
CPU, NCCL on GPUs). Algorithms use it through seams, never directly: `average_gradients` after backward, `share`
for rank 0's decisions at a step boundary, `gather` for metrics and checkpoint state.

What TRL's multi-GPU AlignProp and DDPO got wrong, and the rule here: the LoRA gradients are averaged every optimizer
step (an explicit all-reduce over every trainable parameter, so whatever module samples, the step is the job's);
the initial LoRA is drawn from the run's seed alone (equal on every rank, lora.add_lora); each rank draws its own
prompts and noise (`rank_seed`, accelerate's `set_seed(device_specific=True)` rule). A collective that fails because
a rank is gone raises `RankLost` naming it, so the job ends on every rank instead of waiting for a timeout.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import signal
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import psutil
import torch

T = TypeVar("T")

#: How long a collective may wait for the other ranks (a paused rank 0 shares more often: KEEPALIVE_SECONDS).
COLLECTIVE_TIMEOUT = timedelta(minutes=10)
#: While paused, rank 0 shares its (empty) requests this often, well inside COLLECTIVE_TIMEOUT.
KEEPALIVE_SECONDS = 60.0


class RankLost(RuntimeError):
    """A collective failed: another rank ended or stopped answering. The message names it when it can."""


def rank_seed(seed: int, rank: int) -> int:
    """The seed of a rank's own draws (prompts, noise, truncation): accelerate's `set_seed(seed,
    device_specific=True)`, seed + process index. Rank 0 draws what a single process would."""
    return seed + rank


@dataclass(frozen=True)
class Ranks:
    """This process's place in the job. A single process is rank 0 of 1 and needs no process group."""

    rank: int = 0
    world_size: int = 1
    #: This rank's index on its machine: its GPU.
    local_rank: int = 0
    #: (hostname, pid) of every rank, to name a lost one.
    peers: tuple[tuple[str, int], ...] = ()

    @property
    def leads(self) -> bool:
        """Rank 0 serves the wire, writes the run directory and takes commands."""
        return self.rank == 0

    def close(self) -> None:
        """Ends this rank's part of the process group before the process exits: a gloo group left to the interpreter's
        exit can abort the process ("terminate called without an active exception")."""
        if self.world_size > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()

    def device(self) -> torch.device:
        """This rank's GPU when there are GPUs, else the CPU."""
        return torch.device("cuda", self.local_rank) if torch.cuda.is_available() else torch.device("cpu")

    def average_gradients(self, params: Sequence[torch.nn.Parameter]) -> None:
        """Replaces each parameter's gradient by the mean over the ranks, in one all-reduce of all of them."""
        if self.world_size == 1:
            return
        from accelerate.utils import reduce

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        mean = self.collective("averaging the gradients", lambda: reduce(flat, reduction="mean"))
        offset = 0
        for p, g in zip(params, grads, strict=True):
            n = g.numel()
            p.grad = mean[offset : offset + n].view_as(g).to(g.dtype)
            offset += n

    def share(self, value: T) -> T:
        """Rank 0's `value`, on every rank."""
        if self.world_size == 1:
            return value
        from accelerate.utils import broadcast_object_list

        return self.collective("sharing rank 0's decision", lambda: broadcast_object_list([value], from_process=0))[0]

    def gather(self, value: T) -> list[T]:
        """Every rank's `value`, in rank order, on every rank."""
        if self.world_size == 1:
            return [value]
        from accelerate.utils import gather_object

        return self.collective("gathering from the ranks", lambda: gather_object([value]))

    def collective(self, what: str, run: Callable[[], T]) -> T:
        try:
            return run()
        except RuntimeError as err:  # torch's DistBackendError and gloo's connection errors are RuntimeErrors
            raise RankLost(f"{self.lost()}: {what} failed on rank {self.rank} of {self.world_size} ({err})") from err

    def lost(self) -> str:
        """Which ranks are gone, from the process table of this host; ranks elsewhere can only be guessed at."""
        here = socket.gethostname()
        gone = [r for r, (host, pid) in enumerate(self.peers) if host == here and r != self.rank and not alive(pid)]
        if gone:
            return f"rank {', '.join(map(str, gone))} ended"
        return "another rank stopped answering"


def resumed_generator(saved: Sequence[torch.Tensor], seed: int, step: int, ranks: Ranks) -> torch.Tensor:
    """This rank's generator state after a resume: its own, from a checkpoint of as many ranks; else (another world
    size) a fresh one from the seed, the step and the rank, so the ranks still draw apart."""
    if len(saved) == ranks.world_size:
        return saved[ranks.rank]
    return torch.Generator().manual_seed(hash((seed, step, ranks.rank)) % 2**63).get_state()


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def join_ranks(timeout: timedelta = COLLECTIVE_TIMEOUT) -> Ranks:
    """This process's rank, from the launcher's environment (WORLD_SIZE, RANK, MASTER_ADDR...): accelerate's
    PartialState starts the process group (NCCL with GPUs, gloo without). Alone: rank 0 of 1, nothing started."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Ranks()
    from accelerate import PartialState

    end_with_launcher()
    # Without `cpu`, accelerate 1.16 finds no GPU backend on a CPU host and stays single-process.
    state = PartialState(cpu=not torch.cuda.is_available(), timeout=timeout)
    here = (socket.gethostname(), os.getpid())
    ranks = Ranks(state.process_index, state.num_processes, state.local_process_index, peers=(here,))
    return dataclasses.replace(ranks, peers=tuple(ranks.gather(here)))


def end_with_launcher() -> None:
    """A rank whose launcher dies gets SIGTERM (Linux's parent-death signal), which stops it like `stop`: no rank
    outlives a killed `accelerate launch`."""
    prctl = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # Linux only
    pr_set_pdeathsig = 1
    if prctl is not None and prctl(pr_set_pdeathsig, int(signal.SIGTERM)) == 0 and os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)  # the launcher was already gone
