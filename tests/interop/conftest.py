"""One signed demo ledger (with its registry, events and keys written out) for the
interchange tests that need a real ledger; tests write their outputs beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_support import run


def ok(*args: str, cwd: Path) -> str:
    """Run the CLI; its stdout, or a failure showing stderr."""
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, (args, done.stderr)
    return done.stdout


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("interop-demo")
    ok("demo", "--events", "150", "--db", "ledger.db", "--log-dir", "ledger-log",
       "--write", "inputs", cwd=where)  # fmt: skip
    return where
