"""Receipts in a lot's lineage that weighed more or less than was shipped, found from the
events alone.

The append path records such a receipt as a discrepancy when it accepts it
(``rules.apply_receive``: the received mass differs from the shipped mass by more than the
tolerance). An offline verifier has no ledger tables, only a bundle's events: this module finds
the same receipts by recomputing each shipped lot just before its receipt with
``raretrace.domain.lineage``. They are information for the buyer, not a failure: the custody
chain holds, the material simply arrived lighter or heavier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.domain import lineage
from raretrace.domain.model import Facility, Tolerance, normalize_time
from raretrace.domain.rules import Discrepancy

__all__ = ["LineageDiscrepancy", "lineage_discrepancies"]


@dataclass(frozen=True, slots=True)
class LineageDiscrepancy(Discrepancy):
    """A discrepancy with the receive event that shows it (``seq``, ``event_id``)."""

    seq: int
    event_id: str


class _Before:
    """The same event source, holding only the events before ``cutoff``."""

    def __init__(self, source: lineage.EventSource, cutoff: int) -> None:
        self._source, self._cutoff = source, cutoff

    def events_of(self, lot_id: str) -> list[tuple[int, str, Mapping[str, Any]]]:
        return [row for row in self._source.events_of(lot_id) if row[0] < self._cutoff]

    def facility(self, facility_id: str, before: int) -> Facility:
        return self._source.facility(facility_id, before)


def lineage_discrepancies(
    source: lineage.EventSource, cutoffs: Mapping[str, float], tolerance: Tolerance
) -> list[LineageDiscrepancy]:
    """The receipts, among each lot's events before its cutoff (``verify.lineage_closure``),
    whose received mass differs from the shipped mass beyond ``tolerance``; in log order."""
    found = []
    for lot_id, cutoff in cutoffs.items():
        rows = source.events_of(lot_id)
        for seq, role, body in rows:
            if seq >= cutoff:
                break
            if role == "received":
                ship_seq = max(s for s, r, _ in rows if r == "shipped" and s < seq)
                found += _differs(source, lot_id, ship_seq, seq, body, tolerance)
    return sorted(found, key=lambda d: d.seq)


def _differs(
    source: lineage.EventSource, lot_id: str, ship_seq: int, seq: int,
    body: Mapping[str, Any], tolerance: Tolerance,
) -> list[LineageDiscrepancy]:  # fmt: skip
    """The receipt ``body`` (event number ``seq``) as a discrepancy, if it is one."""
    shipped = lineage.recompute_lot(_Before(source, seq), lot_id, tolerance)
    mass = body.get("mass_kg")
    received = shipped.mass_kg if mass is None else float(mass)
    if abs(received - shipped.mass_kg) <= tolerance.of(shipped.mass_kg):
        return []
    time = normalize_time(body["time"], f"event #{seq}")
    found = LineageDiscrepancy(
        lot=lot_id, origin=shipped.facility, destination=str(body["facility"]),
        shipped_kg=shipped.mass_kg, received_kg=received, ship_seq=ship_seq, time=time,
        seq=seq, event_id=str(body["id"]),
    )  # fmt: skip
    return [found]
