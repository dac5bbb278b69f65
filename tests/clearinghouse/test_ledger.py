"""The clearinghouse through the one write path on a real ledger (SQLite and PostgreSQL):
every step a logged event, the projections stored and read back, refusals leave nothing,
the audit replays it all and names a tampered case row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from clearinghouse_support import (
    WORLD,
    agreement_review,
    agreement_submit,
    dispute_open,
    licence_act,
    licence_issue,
    ruling,
    statement,
)
from ledger_support import new_ledger, snapshot
from raretrace.domain.errors import ValidationError
from raretrace.ledger.append import Ledger
from raretrace.ledger.audit import audit_ledger
from raretrace.store import cases

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(db_url: str, tmp_path: Path) -> Iterator[Ledger]:
    ledger = new_ledger(db_url, WORLD, log_dir=tmp_path / "log")
    yield ledger
    ledger.close()


def _steps(ledger: Ledger) -> None:
    for event in (
        licence_issue(),
        licence_act("lic-s", "suspend", time="2025-06-16T00:00:00Z", reason="dam inspection"),
        agreement_submit(),
        agreement_review("rev-1", "under-review", time="2025-03-02T00:00:00Z"),
        agreement_review("rev-2", "approved", time="2025-04-02T00:00:00Z",
                         reasons="meets the strategic review", public=["title"]),
        dispute_open(),
        statement("st-1", time="2025-03-03T00:00:00Z"),
        ruling("rl-1", time="2025-03-20T00:00:00Z",
               corrective={"party": "perak-ree", "action": "record the make-up extraction"}),
        {"id": "fix-1", "type": "extract", "time": "2025-03-25T00:00:00Z", "actor": "perak-ree",
         "facility": "MY-KENERING", "corrects": "D-1",
         "outputs": [{"lot": "MK-1", "form": "ore", "mass_kg": 600.0,
                      "elements_kg": {"Nd": 3.0}}]},
    ):  # fmt: skip
        ledger.append(event)


def test_every_step_is_logged_stored_and_audited(ledger: Ledger) -> None:
    _steps(ledger)
    reg = ledger.store.registry()
    assert reg.licences["LIC-KEN"].suspended is not None
    with ledger.store.engine.connect() as conn:
        agreement = cases.agreement(conn, "AGR-1")
        dispute = cases.dispute(conn, "D-1")
        history = cases.step_events(conn, "dispute", "D-1")
        licence_history = cases.step_events(conn, "licence", "LIC-KEN")
    assert agreement is not None and agreement.status == "approved"
    assert agreement.public_json()["title"].startswith("Supply of mixed")
    assert dispute is not None and dispute.outcome_json()["corrective_recorded"] is True
    assert [h["event"]["type"] for h in history] == ["dispute", "statement", "ruling", "extract"]
    assert [h["event"]["action"] for h in licence_history] == ["issue", "suspend"]
    assert reg.agreements["AGR-1"] == agreement  # what the rules read is what was stored
    report = audit_ledger(ledger.store, lineage_sample=10)
    assert report.findings == [], report.findings


def test_a_refused_step_changes_nothing(ledger: Ledger) -> None:
    _steps(ledger)
    before = snapshot(ledger)
    for event, rule in (
        (ruling("rl-2", time="2025-04-01T00:00:00Z"), "dispute-closed"),
        (agreement_review("rev-3", "rejected", reasons="x", time="2025-05-01T00:00:00Z"),
         "agreement-transition"),
        (licence_act("lic-r", "renew", actor="ptg-pahang", valid_until="2029-01-01T00:00:00Z",
                     time="2025-07-01T00:00:00Z"), "licence-jurisdiction"),
    ):  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            ledger.append(event)
        assert caught.value.rule == rule
    assert snapshot(ledger) == before


def test_the_audit_names_a_tampered_case(ledger: Ledger) -> None:
    _steps(ledger)
    with ledger.store.engine.begin() as conn:
        conn.execute(text("UPDATE agreements SET status = 'rejected' WHERE id = 'AGR-1'"))
        conn.execute(text("DELETE FROM case_steps WHERE seq = (SELECT MAX(seq) FROM case_steps)"))
    report = audit_ledger(ledger.store, lineage_sample=0)
    where = sorted((f.table, f.message.split(":")[0]) for f in report.findings)
    assert ("agreements", "status") in where
    assert any(t == "case_steps" for t, _ in where)
