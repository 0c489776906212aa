"""`best_metric` (src/eval/best.ts): an evaluation qualifies when it reports the metric (finite) and, with
`best_min_fidelity`, a fidelity at or above the floor; it becomes the best when it beats the best so far in the
metric's direction (drift lower, the others higher) — ties keep the earlier."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from alignprop_torch.eval.monitors import MONITOR_VALUES


@dataclass(frozen=True)
class BestEval:
    """What best/best.json holds."""

    step: int
    metric: str
    value: float
    monitors: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "metric": self.metric, "value": self.value, "monitors": self.monitors}


class BestTracker:
    def __init__(self, metric: str, min_fidelity: float | None, current: BestEval | None = None) -> None:
        if metric not in MONITOR_VALUES:
            raise ValueError(f"best_metric={metric!r} is not a monitor value; use one of {', '.join(MONITOR_VALUES)}")
        self.metric, self.min_fidelity, self.best = metric, min_fidelity, current

    def consider(self, step: int, monitors: dict[str, float]) -> bool:
        """Records the evaluation after `step` steps; true when it is the new best."""
        value = monitors.get(self.metric)
        if value is None or not math.isfinite(value):
            return False
        if self.min_fidelity is not None and not monitors.get("fidelity", -math.inf) >= self.min_fidelity:
            return False
        higher = MONITOR_VALUES[self.metric] == "higher"
        if self.best is not None and not (value > self.best.value if higher else value < self.best.value):
            return False
        self.best = BestEval(step, self.metric, value, dict(monitors))
        return True
