"""``raretrace audit`` as a user runs it: a real process on a signed demo ledger."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from cli_support import run

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("audit-cli")
    done = run("demo", "--events", "400", "--db", "demo.db", cwd=where)
    assert done.returncode == 0, done.stderr
    return where / "demo.db"


def test_clean_ledger_exits_0_with_a_summary(demo_db: Path) -> None:
    done = run("audit", "--db", str(demo_db), cwd=demo_db.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("audit OK: ")
    assert "events/s" in done.stdout and "root " in done.stdout


def test_json_report(demo_db: Path) -> None:
    done = run("audit", "--db", str(demo_db), "--json", "--full", cwd=demo_db.parent)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["differences"] == 0 and report["findings"] == []
    assert report["events"] == report["tree_size"] > 400
    assert report["lineage_lots"] == report["lots"]


def test_tampered_ledger_exits_1_naming_the_row(demo_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tampered.db"
    with sqlite3.connect(demo_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    with sqlite3.connect(copy) as conn:
        (lot,) = conn.execute("SELECT id FROM lots WHERE status = 'active' ORDER BY id").fetchone()
        conn.execute("UPDATE lots SET status = 'consumed', mass_kg = 0 WHERE id = ?", (lot,))
    done = run("audit", "--db", str(copy), cwd=tmp_path)
    assert done.returncode == 1
    assert f"lots lot {lot!r}: mass_kg: stored 0.0" in done.stderr
    # The copy also reads the original's log directory, which the audit names as a copy's;
    # if the lineage sample holds the tampered lot, its recomputation differs too.
    assert "tables 2" in done.stdout and "log-directory 1" in done.stdout
    done = run("audit", "--db", str(copy), "--json", cwd=tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["differences"] == len(report["findings"])
    checks = [f["check"] for f in report["findings"]]
    assert checks.count("tables") == 2 and checks.count("log-directory") == 1
    assert set(checks) <= {"tables", "log-directory", "lineage"}
    tampered = {f["key"] for f in report["findings"] if f["check"] in ("tables", "lineage")}
    assert tampered == {f"lot {lot!r}"}
