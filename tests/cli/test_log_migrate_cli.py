"""``raretrace log migrate`` as an operator runs it on a ledger made before salted commitments:
real processes on a SQLite file the old code wrote (``tests/legacy_support.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run
from legacy_support import OLD_ORIGIN, load_legacy

pytestmark = pytest.mark.integration


@pytest.fixture
def old_ledger(tmp_path: Path) -> Path:
    load_legacy(str(tmp_path / "raretrace.db"), tmp_path / "log")
    done = run("init", cwd=tmp_path)  # brings the schema to the head, as after an upgrade
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_an_old_ledger_says_what_to_run_then_moves_to_commitments(old_ledger: Path) -> None:
    (old_ledger / "one.jsonl").write_text('{"id": "x1"}\n')
    refused = run("ingest", "one.jsonl", cwd=old_ledger)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    assert f"error: the log of this ledger ({OLD_ORIGIN}) publishes its events in clear" in (
        refused.stderr
    )
    assert f"run `raretrace log migrate --db {old_ledger / 'raretrace.db'}`" in refused.stderr

    bad = run("log", "migrate", "--log-origin", OLD_ORIGIN, cwd=old_ledger)
    assert bad.returncode == 2 and "needs an origin of its own" in bad.stderr

    moved = run("log", "migrate", cwd=old_ledger)
    assert moved.returncode == 0, moved.stderr
    lines = moved.stdout.splitlines()
    assert lines[0].startswith(f"moved 267 events to the new log {OLD_ORIGIN}/v2: its entries")
    assert lines[1].startswith(f"archived the old log {OLD_ORIGIN} (size 267, root ")
    assert "archive/1/ of the log directory" in lines[1]
    assert lines[2].startswith("publish the new log key and ask witnesses to cosign the new")
    assert lines[2].endswith((old_ledger / "log" / "log.vkey").read_text().strip())

    again = run("log", "migrate", cwd=old_ledger)
    assert again.returncode == 0
    assert again.stdout.strip() == (
        f"the log {OLD_ORIGIN}/v2 already holds salted commitments (267 events): nothing to do"
    )
    audited = run("audit", cwd=old_ledger)
    assert audited.returncode == 0, audited.stdout[-2000:]
    proof = json.loads(run("log", "prove", "E0000001", "--json", cwd=old_ledger).stdout)
    assert proof["salt"] and proof["event"]["id"] == "E0000001"
    readable = run("log", "prove", "E0000001", cwd=old_ledger).stdout
    assert "leaf       32 bytes (SHA-256(salt || event), the event's commitment" in readable
