"""The GPU check's CPU smoke runs: scripts/gpu-check.sh --smoke runs every case and prints one JSON object; with
--gpus 2 it runs the scaling mode on 1 and 2 gloo ranks under accelerate launch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_gpu_check_smoke_run_times_every_case_and_prints_json():
    env = {**os.environ, "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", "scripts/gpu-check.sh", "--smoke", "--timed", "2"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    cases = [(c["precision"], c["K"], c["batch"]) for c in report["cases"]]
    assert cases == [("no", 1, 1), ("no", 1, 2), ("no", 4, 1), ("no", 4, 2)]
    for case in report["cases"]:
        assert len(case["step_times_s"]) == 2 and case["s_per_step"] > 0 and case["loss_finite"]
        # Both figures are printed rounded: their product matches the batch to their rounding, 1e-3 relative.
        assert abs(case["samples_per_s"] * case["s_per_step"] - case["batch"]) < 1e-3 * case["batch"]
    # Backpropagating through all 4 steps costs more than through the last one.
    by_case = {(c["K"], c["batch"]): c["s_per_step"] for c in report["cases"]}
    assert by_case[(4, 1)] > by_case[(1, 1)]
    assert set(report["versions"]) == {"torch", "diffusers", "transformers", "peft"}


def test_the_gpu_check_scaling_mode_runs_one_and_two_gloo_ranks_under_accelerate_launch():
    env = {**os.environ, "PYTHON": sys.executable}
    command = ["bash", "scripts/gpu-check.sh", "--gpus", "2", "--smoke", "--warmup", "0", "--timed", "2"]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout)
    assert [r["processes"] for r in report["runs"]] == [1, 2]
    for run in report["runs"]:
        assert len(run["step_times_s"]) == 2 and run["s_per_step"] > 0 and run["lora_equal_across_ranks"]
        samples = run["processes"] * report["batch_per_process"]
        assert abs(run["samples_per_s"] * run["s_per_step"] - samples) < 1e-3 * samples  # rounded figures
    one, two = (r["samples_per_s"] for r in report["runs"])
    assert abs(report["scaling"] - two / one) < 1e-3 and abs(report["efficiency"] - two / one / 2) < 1e-3
