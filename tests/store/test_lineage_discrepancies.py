"""``Store.lineage_discrepancies``: the short or heavy receipts upstream of a lot, and no others."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from examples import example_registry
from ledger_support import new_ledger
from raretrace.ledger import service

pytestmark = pytest.mark.integration

ELEMENTS = {"La": 100.0, "Ce": 180.0, "Pr": 20.0, "Nd": 70.0}


def _extract(eid: str, lot: str, day: int) -> dict[str, Any]:
    return {
        "id": eid, "type": "extract", "time": f"2025-01-{day:02d}T00:00:00Z", "actor": "lynas-au",
        "facility": "AU-MTWELD",
        "outputs": [
            {"lot": lot, "form": "concentrate", "mass_kg": 1000.0, "elements_kg": ELEMENTS}
        ],
    }  # fmt: skip


def _ship(eid: str, lot: str, day: int, *, there: bool = True) -> dict[str, Any]:
    src, dst, to = ("AU-MTWELD", "MY-GEBENG", "lynas-my") if there else (
        "MY-GEBENG", "AU-MTWELD", "lynas-au")  # fmt: skip
    actor = "lynas-au" if there else "lynas-my"
    return {"id": eid, "type": "ship", "time": f"2025-01-{day:02d}T00:00:00Z", "actor": actor,
            "lot": lot, "from": src, "to": dst, "consignee": to}  # fmt: skip


def _receive(eid: str, lot: str, day: int, kg: float, *, there: bool = True) -> dict[str, Any]:
    actor, facility = ("lynas-my", "MY-GEBENG") if there else ("lynas-au", "AU-MTWELD")
    return {"id": eid, "type": "receive", "time": f"2025-01-{day:02d}T00:00:00Z", "actor": actor,
            "lot": lot, "facility": facility, "mass_kg": kg}  # fmt: skip


def _split(eid: str, source: str, out: str, day: int, kg: float) -> dict[str, Any]:
    share = kg / 1000.0
    return {
        "id": eid, "type": "transform", "process": "split", "time": f"2025-01-{day:02d}T00:00:00Z",
        "actor": "lynas-my", "facility": "MY-GEBENG", "inputs": [{"lot": source, "mass_kg": kg}],
        "outputs": [{"lot": out, "form": "concentrate", "mass_kg": kg,
                     "elements_kg": {e: v * share for e, v in ELEMENTS.items()}}],
    }  # fmt: skip


def test_a_lot_shows_the_discrepancies_upstream_of_it_and_no_others(
    db_url: str, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, example_registry(), log_dir=tmp_path / "log")
    events = [
        _extract("x1", "MW-1", 1), _ship("s1", "MW-1", 2), _receive("r1", "MW-1", 3, 950.0),
        _split("t1", "MW-1", "MW-2", 4, 500.0),  # MW-2 comes from MW-1 after r1
        _split("t2", "MW-2", "MW-3", 5, 200.0),  # and MW-3 from MW-2: r1 is two steps up
        # MW-1's rest travels on and arrives short again, after MW-2 was split off it
        _ship("s2", "MW-1", 6, there=False), _receive("r2", "MW-1", 7, 400.0, there=False),
        # an unrelated lot, short too
        _extract("x9", "MW-9", 1), _ship("s9", "MW-9", 2), _receive("r9", "MW-9", 3, 990.0),
    ]  # fmt: skip
    report = ledger.ingest(enumerate(events, 1))
    assert (report.rejected, report.discrepancies) == (0, 3), report.rejections
    store = ledger.store

    def upstream(lot: str) -> list[str]:
        return [d.event_id for d in store.lineage_discrepancies(lot)]

    assert upstream("MW-3") == ["r1"] and upstream("MW-2") == ["r1"]
    assert upstream("MW-1") == ["r1", "r2"]
    assert upstream("MW-9") == ["r9"]
    (r1,) = service.trace(store, "MW-3")["discrepancies"]
    assert r1 == {
        "event_id": "r1", "lot": "MW-1", "from": "AU-MTWELD", "to": "MY-GEBENG",
        "shipped_kg": 1000.0, "received_kg": 950.0, "delta_kg": -50.0,
        "time": "2025-01-03T00:00:00Z",
    }  # fmt: skip
    ledger.close()


def test_a_lot_without_upstream_discrepancies_has_an_empty_list(
    db_url: str, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, example_registry(), log_dir=tmp_path / "log")
    ledger.ingest(enumerate([_extract("x1", "MW-1", 1)], 1))
    assert service.trace(ledger.store, "MW-1")["discrepancies"] == []
    ledger.close()
