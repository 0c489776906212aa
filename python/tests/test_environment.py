"""The environment npm test created holds exactly the pinned packages, and the Python code is ruff-clean."""

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1]


def pinned() -> dict[str, str]:
    pins = {}
    for line in (PYTHON_DIR / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, ver = line.partition("==")
            pins[name] = ver
    return pins


def test_every_pinned_package_is_installed_at_its_pinned_version():
    wrong = {}
    for name, ver in pinned().items():
        got = version(name)
        if got.split("+")[0] != ver:
            wrong[name] = (ver, got)
    assert wrong == {}


def test_python_sources_are_ruff_clean():
    """Every Python file in the repository (ruff skips what .gitignore ignores: .venv, node_modules)."""
    root = PYTHON_DIR.parent
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(PYTHON_DIR / "pyproject.toml")]
    command.append(str(root))
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
