"""Migration 0005 (issue 11 §2): a ledger at 0004, made before the service's bearer tokens,
upgraded to the head keeps every row it had, gains an empty ``api_tokens`` table that works,
and audits clean; on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect, select

from ledger_chains import REGISTRY
from ledger_support import new_ledger, snapshot
from raretrace.ledger.audit import audit_ledger
from raretrace.service import tokens
from raretrace.store import schema

pytestmark = pytest.mark.integration

T = "2025-01-{:02d}T00:00:00Z"
EVENTS = [
    {"id": "e1", "type": "extract", "time": T.format(1), "actor": "miner-au",
     "facility": "MINE-AU", "outputs": [{"lot": "A", "form": "concentrate", "mass_kg": 100.0,
                                         "elements_kg": {"Nd": 30.0}}]},
    {"id": "e2", "type": "ship", "time": T.format(2), "actor": "miner-au", "lot": "A",
     "from": "MINE-AU", "to": "PORT-MY", "consignee": "proc-my"},
    {"id": "e3", "type": "receive", "time": T.format(3), "actor": "proc-my", "lot": "A",
     "facility": "PORT-MY", "mass_kg": 90.0},
]  # fmt: skip


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "raretrace.store:migrations")
    config.attributes["connection"] = conn
    return config


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


def test_a_ledger_at_0004_upgraded_to_the_head_keeps_its_data(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    report = ledger.ingest(enumerate(EVENTS, 1))
    assert (report.accepted, report.rejected, report.discrepancies) == (3, 0, 1)
    before = snapshot(ledger)  # every ledger table's rows (api_tokens is empty)
    with ledger.store.engine.begin() as conn:
        command.downgrade(_config(conn), "0004")  # the schema a ledger of 0004 has
    with ledger.store.engine.connect() as conn:
        assert "api_tokens" not in _tables(conn)
        assert "events" in _tables(conn)
    assert ledger.store.schema_revision() == "0004"

    ledger.store.upgrade()  # what `raretrace init` on the old ledger does
    ledger.store.require_ready()
    assert snapshot(ledger) == before  # nothing of the ledger lost or changed
    with ledger.store.engine.connect() as conn:
        assert conn.execute(select(schema.api_tokens)).all() == []
    issued = tokens.issue(ledger.store, participant="proc-my", role="operator", expires=None)
    who = tokens.authenticate(ledger.store, issued.bearer)
    assert (who.role, who.participant) == ("operator", "proc-my")
    found = audit_ledger(ledger.store, full=True, workers=1)
    assert found.ok, [f.line() for f in found.findings][:5]
    ledger.close()
