"""The committed oracle fixtures are exactly what diffusers/transformers write today: regenerating them into a
temporary folder changes no byte, and every file the generator writes is committed."""

from pathlib import Path

import pytest

from oracle.__main__ import AREA_FOLDERS, generate
from oracle.common import FIXTURES


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fixtures")
    generate(root)
    return root


def written_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_regenerating_the_fixtures_changes_no_committed_byte(regenerated: Path) -> None:
    changed = [name for name in written_files(regenerated)
               if (FIXTURES / name).read_bytes() != (regenerated / name).read_bytes()]
    assert changed == []


def test_every_file_in_the_oracle_folders_is_one_the_generator_writes(regenerated: Path) -> None:
    committed = sorted(str(p.relative_to(FIXTURES)) for folder in AREA_FOLDERS
                       for p in (FIXTURES / folder).rglob("*") if p.is_file())
    assert committed == written_files(regenerated)
