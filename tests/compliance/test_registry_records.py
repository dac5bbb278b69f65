"""Licences, accreditations, audits and roles on a real ledger (SQLite and PostgreSQL): logged
as signed registry events, stored, read back, loaded twice without change, audited."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ledger_support import new_ledger, snapshot
from raretrace.domain.errors import ValidationError
from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.ledger.audit import audit_ledger
from registry_examples import ISSUE_DOC

pytestmark = pytest.mark.integration


@pytest.fixture
def ledger(db_url: str, tmp_path: Path) -> Iterator[Ledger]:
    ledger = new_ledger(db_url, ISSUE_DOC, log_dir=tmp_path / "log")
    yield ledger
    ledger.close()


def _sql(ledger: Ledger, statement: str) -> list[Any]:
    with ledger.store.engine.begin() as conn:
        result = conn.execute(text(statement))
        return list(result) if result.returns_rows else []


def test_records_are_logged_stored_and_read_back(ledger: Ledger) -> None:
    types = [r[0] for r in _sql(ledger, "SELECT type FROM events ORDER BY seq")]
    assert types == ["participant"] * 5 + ["facility", "accreditation", "licence", "licence",
                                           "audit"]  # fmt: skip
    reg = ledger.store.registry()
    assert reg.participants["aelb-my"].roles == ("authority",)
    assert reg.participants["lynas-my"].roles == ("operator",)
    assert [x.to_json() for x in reg.licences.values()] == ISSUE_DOC["licences"]
    assert [x.to_json() for x in reg.audits.values()] == ISSUE_DOC["audits"]
    assert list(reg.accreditations) == ["ACC-1"]
    # A participant with the default role is stored as before (no "roles" field).
    body = _sql(ledger, "SELECT body FROM participants WHERE id = 'lynas-my'")[0][0]
    assert "roles" not in json.loads(body)


def test_loading_the_same_file_again_changes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(ISSUE_DOC), encoding="utf-8")
    before = snapshot(ledger)
    assert service.load_registry(ledger, path).accepted == 0
    assert snapshot(ledger) == before
    changed = copy.deepcopy(ISSUE_DOC)
    changed["licences"][0]["valid_until"] = "2026-06-01T00:00:00Z"  # a renewal
    path.write_text(json.dumps(changed), encoding="utf-8")
    assert service.load_registry(ledger, path).accepted == 1
    assert ledger.store.registry().licences["LIC-1"].valid_until == "2026-06-01T00:00:00.000000Z"


def test_a_bad_record_is_refused_and_nothing_changes(ledger: Ledger, tmp_path: Path) -> None:
    bad = copy.deepcopy(ISSUE_DOC)
    bad["audits"][0]["auditor"] = "ghost"
    path = tmp_path / "registry.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    before = snapshot(ledger)
    with pytest.raises(ValidationError) as info:
        service.load_registry(ledger, path)
    assert (info.value.rule, info.value.subject) == ("unknown-participant", "audit 'AUD-1'")
    assert snapshot(ledger) == before


def test_a_clean_ledger_audits_clean_and_a_changed_licence_is_named(ledger: Ledger) -> None:
    assert audit_ledger(ledger.store, workers=1).ok
    _sql(ledger, "UPDATE registry_records SET body = REPLACE(body, '2026-03-02', '2099-03-02')"
         " WHERE kind = 'licence' AND id = 'LIC-1'")  # fmt: skip
    _sql(ledger, "DELETE FROM registry_records WHERE kind = 'audit'")
    report = audit_ledger(ledger.store, workers=1)
    messages = [f.line() for f in report.findings]
    assert any("registry_records" in m and "licence 'LIC-1'" in m and "2099" in m
               for m in messages), messages  # fmt: skip
    assert any("audit 'AUD-1'" in m and "missing" in m for m in messages), messages


def test_a_record_inserted_directly_is_named(ledger: Ledger) -> None:
    seq = _sql(ledger, "SELECT max(seq) FROM events")[0][0]
    _sql(ledger, "INSERT INTO registry_records (kind, id, body, seq) VALUES"
         f" ('licence', 'FORGED', '{{}}', {seq})")  # fmt: skip
    report = audit_ledger(ledger.store, workers=1)
    assert any("FORGED" in f.line() and "no registry event" in f.line() for f in report.findings)
