"""No file a test makes outlives the run: ledger logs (which hold private keys), anything made
with ``tempfile`` and the user-data files of the processes tests start live under pytest's
temporary folders, which pytest removes."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from examples import example_registry
from ledger_support import new_ledger


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def test_a_test_ledger_keeps_its_log_and_keys_under_tmp_path(tmp_path: Path) -> None:
    ledger = new_ledger(str(tmp_path / "ledger.db"), example_registry(), log_dir=tmp_path / "log")
    assert ledger.settings.log.directory == tmp_path / "log"
    keys = sorted(p.name for p in (tmp_path / "log").glob("*.key"))
    assert keys == ["log.key", "registry.key"]  # the private keys the log is signed with
    ledger.close()


def test_a_test_ledger_cannot_be_made_without_saying_where_its_log_goes(tmp_path: Path) -> None:
    # The helper used to make a temporary folder of its own (and never removed it).
    with pytest.raises(TypeError, match="log_dir"):
        new_ledger(str(tmp_path / "ledger.db"), example_registry())  # type: ignore[call-arg]
    assert not (tmp_path / "ledger.db").exists()


def test_temporary_and_user_data_files_go_under_pytests_folder(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    base = tmp_path_factory.getbasetemp()
    made = Path(tempfile.mkdtemp(prefix="raretrace-log-"))
    assert _inside(made, base)
    made.rmdir()
    child = subprocess.run(
        [sys.executable, "-c", CHILD],
        check=True,
        capture_output=True,
        text=True,
    )
    temporary, user_data = child.stdout.splitlines()
    assert _inside(Path(temporary), base)
    assert _inside(Path(user_data), base)  # where `raretrace demo` keeps its log keys


CHILD = "import os, tempfile; print(tempfile.gettempdir()); print(os.environ['XDG_DATA_HOME'])"
