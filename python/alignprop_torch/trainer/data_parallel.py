"""A job's run loop on every rank of a data-parallel job (alignprop_torch.distributed): rank 0 serves the wire and
writes the run directory; the others run the same loop silently. Every rank takes the same decision at the same step
boundary (rank 0's requests, shared), and the metrics rank 0 publishes are the job's: every rank's rewards and the
mean loss, so samples/s counts the whole job. Any job type (AlignProp, DDPO) runs under it unchanged."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from alignprop_torch.distributed import KEEPALIVE_SECONDS, Ranks
from alignprop_torch.trainer.run_control import Coordination
from alignprop_torch.trainer.run_loop import Job, StepOutcome


def coordination(ranks: Ranks) -> Coordination:
    """Rank 0's requests on every rank; a paused rank 0 shares often enough to keep the others' collective alive."""
    if ranks.world_size == 1:
        return Coordination()
    return Coordination(share=ranks.share, leads=ranks.leads, idle_seconds=KEEPALIVE_SECONDS, alone=False)


def write_on_rank_0(ranks: Ranks, write: Callable[[], str]) -> str:
    """Runs `write` (a checkpoint save) on rank 0 alone and returns what it returns there ("" elsewhere). An OSError
    there is raised on every rank, so all ranks agree whether the save happened (the run loop saves again at the end
    when it did not)."""
    failure: OSError | None = None
    path = ""
    if ranks.leads:
        try:
            path = write()
        except OSError as err:
            failure = err
    failure = ranks.share(failure)
    if failure is not None:
        raise failure
    return path


class SilentServer:
    """What the run loop publishes through on a rank that does not serve the wire: nothing goes anywhere."""

    last_seq = 0

    def publish(self, payload: object) -> None:
        del payload


@dataclasses.dataclass
class JobOfRanks:
    """A job's step on this rank, reported as the whole job's: rewards of every rank (rank order), the ranks' mean
    loss; images from rank 0's batch alone (the other ranks do not encode theirs)."""

    job: Job
    ranks: Ranks

    def step(self, keep_images: bool) -> StepOutcome:
        outcome = self.job.step(keep_images=keep_images and self.ranks.leads)
        parts = self.ranks.gather((outcome.loss, outcome.rewards))
        return dataclasses.replace(
            outcome,
            loss=sum(loss for loss, _ in parts) / len(parts),
            rewards=[reward for _, rewards in parts for reward in rewards],
        )
