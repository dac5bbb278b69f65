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
from raretrace.domain.model import Tolerance, normalize_time
from raretrace.domain.rules import Discrepancy

__all__ = ["LineageDiscrepancy", "lineage_discrepancies"]


@dataclass(frozen=True, slots=True)
class LineageDiscrepancy(Discrepancy):
    """A discrepancy with the receive event that shows it (``seq``, ``event_id``)."""

    seq: int
    event_id: str


def lineage_discrepancies(
    source: lineage.EventSource, cutoffs: Mapping[str, float], tolerance: Tolerance,
    *, walk: lineage.Recomputation | None = None,
) -> list[LineageDiscrepancy]:  # fmt: skip
    """The receipts, among each lot's events before its cutoff (``verify.lineage_closure``),
    whose received mass differs from the shipped mass beyond ``tolerance``; in log order.

    ``walk``: a memo over the same source and tolerance to share with the caller's other
    recomputations (one is made if none is given)."""
    walk = walk or lineage.Recomputation(source, tolerance)
    found = []
    for lot_id, cutoff in cutoffs.items():
        rows = source.events_of(lot_id)
        for seq, role, body in rows:
            if seq >= cutoff:
                break
            if role == "received":
                ship_seq = max(s for s, r, _ in rows if r == "shipped" and s < seq)
                found += _differs(walk, lot_id, ship_seq, seq, body, tolerance)
    return sorted(found, key=lambda d: d.seq)


def _differs(
    walk: lineage.Recomputation, lot_id: str, ship_seq: int, seq: int,
    body: Mapping[str, Any], tolerance: Tolerance,
) -> list[LineageDiscrepancy]:  # fmt: skip
    """The receipt ``body`` (event number ``seq``) as a discrepancy, if it is one."""
    shipped = walk.before(lot_id, seq)
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
