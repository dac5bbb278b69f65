"""Secrets stay secret, public files are public: every private key raretrace writes is 0600,
everything the log publishes is 0644 (less the umask), through the commands a user runs."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_support import run
from examples import REGISTRY_FILE

pytestmark = pytest.mark.integration


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, inherited by the commands the test runs."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_keys_are_0600_and_the_published_log_is_0644(tmp_path: Path) -> None:
    for args in (
        ("--db", "chain.db", "init", "--log-dir", "log"),
        ("--db", "chain.db", "registry", "load", str(REGISTRY_FILE)),  # signed: tiles, checkpoint
        ("keygen", "--participant", "lynas-my", "--out", "lynas.key"),
        ("witness", "keygen", "--name", "witness.example.my", "--out", "witness.key"),
    ):
        done = run(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    log = tmp_path / "log"
    secret = [log / "log.key", log / "registry.key", tmp_path / "lynas.key",
              tmp_path / "witness.key"]  # fmt: skip
    assert {str(p): _mode(p) for p in secret} == {str(p): 0o600 for p in secret}
    public = [p for p in log.rglob("*") if p.is_file() and not p.name.endswith(".key")]
    names = {str(p.relative_to(log)) for p in public}
    assert {"checkpoint", "log.vkey", "ledger.json", "tile/entries/000.p/4"} <= names
    assert {str(p): _mode(p) for p in public} == {str(p): 0o644 for p in public}
