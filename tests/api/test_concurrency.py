"""Many writers at once (issue 11 §4): 16 submitters race through two service workers to use
up the same lot while a CLI ingest appends beside them; exactly one wins, nothing is lost or
applied twice, the log stays one line and the audit is clean. On PostgreSQL (the advisory
lock) and on SQLite (BEGIN IMMEDIATE with a bounded wait)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from service_support import DemoLedger, build_demo, ok, serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RACERS = 16


@pytest.fixture(params=["sqlite", "postgresql"])
def race_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> DemoLedger:
    if request.param == "sqlite":
        return build_demo(tmp_path / "race", str(tmp_path / "race" / "ledger.db"))
    url: str = request.getfixturevalue("fresh_pg_url")
    return build_demo(tmp_path / "race", url)


def test_sixteen_submitters_race_for_one_lot_and_exactly_one_wins(race_ledger: DemoLedger) -> None:
    ledger = race_ledger
    out = ok("--db", ledger.db, "lots", "--status", "active", "--limit", "0", "--json",
             cwd=ledger.folder)  # fmt: skip
    lots = [json.loads(line) for line in out.splitlines()]
    target = max(lots, key=lambda lot: lot["mass_kg"])
    holder = target["custodian"]
    token = ledger.token(holder, "operator")
    events = [
        ledger.sign({
            "id": f"race-{i}-{secrets.token_hex(4)}", "type": "adjust",
            "time": "2025-12-31T00:00:00Z", "actor": holder, "lot": target["lot"],
            "mass_kg": -target["mass_kg"], "reason": f"written off by racer {i}",
        })
        for i in range(RACERS)
    ]  # fmt: skip
    before = ledger.size()
    with serving(ledger, workers=2) as server:

        def submit(event: dict[str, object]) -> httpx.Response:
            with server.client(token) as http:
                return http.post("/v1/events", json=event)

        beside = subprocess.Popen(
            [sys.executable, "-m", "raretrace", "--db", ledger.db, "ingest",
             str(ledger.folder / "inputs" / "events.jsonl")],
            cwd=ledger.folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        with ThreadPoolExecutor(RACERS) as pool:
            answers = list(pool.map(submit, events))
        beside.communicate(timeout=600)
        retry = submit(events[[a.status_code for a in answers].index(200)])
    won = [a for a in answers if a.status_code == 200]
    lost = [a for a in answers if a.status_code != 200]
    assert len(won) == 1, [(a.status_code, a.text[:200]) for a in answers]
    assert all(a.status_code == 422 and set(a.json()) == {"error", "rule", "detail"} for a in lost)
    assert retry.status_code == 200 and retry.json() == won[0].json()
    assert beside.returncode == 0  # every event of the file was already present
    assert ledger.size() == before + 1
    ledger.audit_clean()
