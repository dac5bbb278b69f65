"""Migration 0004 (issue 9): a ledger written before routes existed gets every lot's routes,
and its paths without the steps receipts used to add, recomputed from its events; on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from ledger_chains import REGISTRY
from ledger_support import new_ledger
from raretrace.ledger.audit import audit_ledger

pytestmark = pytest.mark.integration

T = "2025-01-{:02d}T00:00:00Z"


def _events() -> list[dict[str, Any]]:
    def ev(n: int, kind: str, actor: str, **fields: Any) -> dict[str, Any]:
        return {"id": f"e{n}", "type": kind, "time": T.format(n), "actor": actor, **fields}

    def out(lot: str, kg: float, **elements: float) -> dict[str, Any]:
        return {"lot": lot, "form": "concentrate", "mass_kg": kg, "elements_kg": elements}

    return [
        ev(1, "extract", "miner-au", facility="MINE-AU", outputs=[out("A", 100.0, Nd=30.0)]),
        ev(2, "extract", "miner-vn", facility="MINE-VN", outputs=[out("B", 100.0, Nd=10.0)]),
        ev(3, "ship", "miner-au", lot="A", **{"from": "MINE-AU"}, to="PORT-MY",
           consignee="proc-my"),
        ev(4, "receive", "proc-my", lot="A", facility="PORT-MY"),
        ev(5, "ship", "proc-my", lot="A", **{"from": "PORT-MY"}, to="PLANT-MY",
           consignee="proc-my"),
        ev(6, "receive", "proc-my", lot="A", facility="PLANT-MY"),
        ev(7, "ship", "miner-vn", lot="B", **{"from": "MINE-VN"}, to="PLANT-MY",
           consignee="proc-my"),
        ev(8, "receive", "proc-my", lot="B", facility="PLANT-MY"),
        ev(9, "transform", "proc-my", facility="PLANT-MY", process="separation",
           inputs=[{"lot": "A", "mass_kg": 100.0}, {"lot": "B", "mass_kg": 100.0}],
           outputs=[out("AB", 50.0, Nd=40.0)]),
    ]  # fmt: skip


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", "raretrace.store:migrations")
    config.attributes["connection"] = conn
    return config


def _provenance(conn: Any) -> dict[str, Any]:
    rows = conn.execute(text("SELECT id, provenance FROM lots ORDER BY id"))
    return {lot: json.loads(doc) for lot, doc in rows}


def test_the_migration_recomputes_routes_and_paths(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    assert ledger.ingest(enumerate(_events(), 1)).rejected == 0
    with ledger.store.engine.begin() as conn:
        expected = _provenance(conn)
        command.downgrade(_config(conn), "0003")  # later migrations undone, 0004's is a no-op
        # The ledger as the code before 0004 left it: no routes, and a receipt's facility
        # (PLANT-MY, where A and B were only received) on the path.
        for lot, doc in expected.items():
            old = {k: v for k, v in doc.items() if k in ("by_mine", "by_country", "path")}
            old["path"] = [*old["path"], {"stage": "separation", "facility": "PLANT-MY",
                                          "country": "MY", "technology_origin": "JP"}]  # fmt: skip
            conn.execute(
                text("UPDATE lots SET provenance = :p WHERE id = :id"),
                {"p": json.dumps(old), "id": lot},
            )
    with ledger.store.engine.begin() as conn:
        command.upgrade(_config(conn), "0004")
    with ledger.store.engine.connect() as conn:
        assert _provenance(conn) == expected
    ledger.store.upgrade()  # and on to the head
    report = audit_ledger(ledger.store, full=True, workers=1)
    assert report.ok, [f.line() for f in report.findings][:5]
    paths = [[s["facility"] for s in expected[lot]["path"]] for lot in ("A", "AB")]
    assert paths == [["MINE-AU", "PORT-MY"], ["MINE-AU", "PORT-MY", "MINE-VN", "PLANT-MY"]]
    assert expected["AB"]["routes"]["paths"] == [
        [["mine", "AU", "AU"], ["warehouse", "MY", "MY"], ["separation", "MY", "JP"]],
        [["mine", "VN", "VN"], ["separation", "MY", "JP"]],
    ]
    assert expected["AB"]["routes"]["shares"] == {"Nd": [0.75, 0.25]}
    ledger.close()


def test_the_migrations_have_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", "raretrace.store:migrations")
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
