"""A small hand-made ledger for the analytics tests, whose flows and concentration are worked
out by hand in the tests (tests/analytics/test_flows.py, test_concentration.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger_support import new_ledger
from raretrace.ledger.append import Ledger

PARTICIPANTS = [
    {"id": "miner-au", "name": "Miner AU", "country": "AU"},
    {"id": "miner-vn", "name": "Miner VN", "country": "VN"},
    {"id": "proc-my", "name": "Processor MY", "country": "MY"},
    {"id": "magnets-vn", "name": "Magnets VN", "country": "VN"},
]
FACILITIES = [
    {"id": "MINE-AU", "name": "Mine AU", "operator": "miner-au", "country": "AU",
     "stage": "mine", "lat": -28.8, "lon": 122.5, "capacity_t_per_year": 0.5},
    {"id": "MINE-VN", "name": "Mine VN", "operator": "miner-vn", "country": "VN",
     "stage": ["mine", "concentrator"], "lat": 22.3, "lon": 103.4},
    {"id": "PLANT-MY", "name": "Plant MY", "operator": "proc-my", "country": "MY",
     "stage": ["separation", "reduction"], "lat": 3.9, "lon": 103.4},
    {"id": "MAGNET-VN", "name": "Magnet VN", "operator": "magnets-vn", "country": "VN",
     "stage": "magnet", "lat": 20.8, "lon": 106.7},
]  # fmt: skip
REGISTRY: dict[str, Any] = {"participants": PARTICIPANTS, "facilities": FACILITIES}


def _ev(n: int, kind: str, time: str, actor: str, **fields: Any) -> dict[str, Any]:
    return {"id": f"e{n}", "type": kind, "time": time, "actor": actor, **fields}


#: January: 100 kg Nd + 25 kg Pr mined in AU, 60 kg Nd mined in VN; the AU ore goes to the
#: Malaysian plant and arrives 2% light (a discrepancy), is separated (1 kg Nd, 0.5 kg Pr
#: lost); February: the oxide ships to Vietnam; March: it arrives.
EVENTS: list[dict[str, Any]] = [
    _ev(1, "extract", "2025-01-02T00:00:00Z", "miner-au", facility="MINE-AU", outputs=[
        {"lot": "L1", "form": "ore", "mass_kg": 1000.0, "elements_kg": {"Nd": 100.0, "Pr": 25.0}}]),
    _ev(2, "extract", "2025-01-03T00:00:00Z", "miner-vn", facility="MINE-VN", outputs=[
        {"lot": "V1", "form": "ore", "mass_kg": 300.0, "elements_kg": {"Nd": 60.0}}]),
    _ev(3, "ship", "2025-01-05T00:00:00Z", "miner-au", lot="L1", **{"from": "MINE-AU"},
        to="PLANT-MY", consignee="proc-my"),
    _ev(4, "receive", "2025-01-10T00:00:00Z", "proc-my", lot="L1", facility="PLANT-MY",
        mass_kg=980.0),
    _ev(5, "transform", "2025-01-20T00:00:00Z", "proc-my", facility="PLANT-MY",
        process="separation", inputs=[{"lot": "L1", "mass_kg": 980.0}],
        outputs=[{"lot": "O1", "form": "oxide", "mass_kg": 150.0,
                  "elements_kg": {"Nd": 97.0, "Pr": 24.0}}],
        losses_kg={"Nd": 1.0, "Pr": 0.5}),
    _ev(6, "ship", "2025-02-10T00:00:00Z", "proc-my", lot="O1", **{"from": "PLANT-MY"},
        to="MAGNET-VN", consignee="magnets-vn"),
    _ev(7, "receive", "2025-03-01T00:00:00Z", "magnets-vn", lot="O1", facility="MAGNET-VN"),
]  # fmt: skip


def small_ledger(work: Path, events: list[dict[str, Any]] | None = None) -> Ledger:
    """The ledger of ``EVENTS`` (or ``events``) at ``work/ledger.db``."""
    ledger = new_ledger(str(work / "ledger.db"), REGISTRY, log_dir=work / "log")
    report = ledger.ingest(enumerate(EVENTS if events is None else events, 1))
    assert report.rejected == 0, [r.error.message for r in report.rejections]
    return ledger
