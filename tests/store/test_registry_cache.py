"""``Store.registry()`` keeps the parsed registry between calls and re-reads it when any
registry record changes, whoever wrote it (another process's ledger included); on SQLite
and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger_chains import FACILITIES, PARTICIPANTS, REGISTRY
from ledger_support import new_ledger
from raretrace.ledger import service
from raretrace.store.store import Store

pytestmark = pytest.mark.integration


def test_a_kept_registry_is_reused_until_a_record_changes(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    reader = Store.open(db_url, access="read")  # another handle, as a service keeps one
    first, again = reader.registry(), reader.registry()
    assert first.facilities["MINE-AU"] is again.facilities["MINE-AU"]  # parsed once
    version = Store.registry_version
    with reader.engine.connect() as conn:
        before = version(conn)

    first.facilities.clear()  # a caller's copy: changing it leaves the kept one alone
    assert set(reader.registry().facilities) == {f["id"] for f in FACILITIES}

    renamed = {**FACILITIES[0], "name": "Mine AU (renamed)"}
    doc = {"participants": PARTICIPANTS, "facilities": [renamed]}
    events = service.registry_events(doc, ledger.registry, signer=service.registry_signer(ledger))
    assert len(events) == 1 and ledger.ingest(enumerate(events, 1)).accepted == 1
    with reader.engine.connect() as conn:
        assert version(conn) != before
    assert reader.registry().facilities["MINE-AU"].name == "Mine AU (renamed)"

    more = {"participants": [*PARTICIPANTS, {"id": "late-co", "name": "Late", "country": "AU"}]}
    events = service.registry_events(more, ledger.registry, signer=service.registry_signer(ledger))
    assert ledger.ingest(enumerate(events, 1)).accepted == 1
    assert "late-co" in reader.registry().participants
    reader.close()
    ledger.close()
