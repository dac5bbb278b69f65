"""``cp chain.db copy.db`` and then writing through the copy, as a user would: the copy is
refused without changing anything, the original goes on, the audit of each says what it is,
and ``init --log-dir`` gives the copy a log of its own."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cli_support import run
from examples import EVENTS_FILE, REGISTRY_FILE

pytestmark = pytest.mark.integration


def _state(folder: Path) -> dict[str, str]:
    """Every file in ``folder`` (databases and log directories) and the hash of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.endswith((".jsonl", "-wal", "-shm"))
    }


def _ok(*args: str, cwd: Path) -> str:
    done = run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _extracts(path: Path, first: int, count: int) -> Path:
    """``count`` new extract events (ids x<first>…), one a line."""
    event = json.loads(EVENTS_FILE.read_text().splitlines()[0])
    lines = [
        json.dumps({**event, "id": f"x{n}", "outputs": [{**event["outputs"][0], "lot": f"X{n}"}]})
        for n in range(first, first + count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_copied_database_cannot_fork_the_log(tmp_path: Path) -> None:
    _ok("--db", "chain.db", "init", "--allow-unsigned", cwd=tmp_path)
    _ok("--db", "chain.db", "registry", "load", str(REGISTRY_FILE), cwd=tmp_path)
    _ok("--db", "chain.db", "ingest", str(EVENTS_FILE), cwd=tmp_path)
    shutil.copyfile(tmp_path / "chain.db", tmp_path / "copy.db")
    new = _extracts(tmp_path / "new.jsonl", 1, 3)

    before = _state(tmp_path)
    refused = run("--db", "copy.db", "ingest", str(new), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stdout == ""
    [line] = refused.stderr.splitlines()
    assert "belongs to the database" in line and "is a copy of that ledger" in line
    assert f"--db {tmp_path / 'copy.db'} --log-dir NEW-DIR" in line
    assert "Traceback" not in refused.stderr
    assert _state(tmp_path) == before  # neither database nor the log changed

    _ok("--db", "chain.db", "ingest", str(new), cwd=tmp_path)  # the original goes on
    assert "audit OK" in _ok("--db", "chain.db", "audit", cwd=tmp_path)
    audit = run("--db", "copy.db", "audit", cwd=tmp_path)
    assert audit.returncode == 1
    found = audit.stderr.splitlines()
    assert any(f.startswith("log ledger.json: the log directory") for f in found)
    assert any("is ahead of this database: its checkpoint is for 12 events (root " in f
               and ", the database holds 9 (root " in f for f in found)  # fmt: skip

    # The recovery: the copy becomes a ledger of its own, with its own log.
    original_log = _state(tmp_path / "chain-log")
    shown = _ok("--db", "copy.db", "init", "--log-dir", "copy-log", cwd=tmp_path)
    assert "raretrace.local/copy-log" in shown
    _ok("--db", "copy.db", "ingest", str(_extracts(tmp_path / "more.jsonl", 10, 2)), cwd=tmp_path)
    assert "audit OK" in _ok("--db", "copy.db", "audit", cwd=tmp_path)
    assert "audit OK" in _ok("--db", "chain.db", "audit", cwd=tmp_path)
    assert _state(tmp_path / "chain-log") == original_log
    assert (
        (tmp_path / "copy-log" / "checkpoint")
        .read_text()
        .startswith("raretrace.local/copy-log\n11\n")
    )
