"""The in-memory view of the ledger while one batch of events is applied.

Events in a batch see each other's effects (a lot shipped by event 3 can be received by event
7) through this overlay; nothing reaches the database until the whole batch is written in
one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from raretrace.domain.clearinghouse import Case, moved
from raretrace.domain.model import Lot, Participant
from raretrace.domain.registry import Registry, RegistryRecord
from raretrace.domain.rules import Discrepancy, Effects


@dataclass(slots=True)
class BatchState:
    """Lots read for the batch plus every change accepted so far (implements LedgerState)."""

    registry: Registry
    stored: dict[str, Lot]
    next_seq: int
    changed: dict[str, Lot] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    discrepancies: list[tuple[int, Discrepancy]] = field(default_factory=list)
    records: list[tuple[int, RegistryRecord]] = field(default_factory=list)
    #: Agreements and disputes as accepted events left them, and each clearinghouse step's
    #: (seq, kind, id): docs/clearinghouse.md.
    cases: list[tuple[int, Case]] = field(default_factory=list)
    case_steps: list[dict[str, Any]] = field(default_factory=list)
    bodies: dict[str, str] = field(default_factory=dict)
    #: Whether a participant record (and so possibly its keys) changed in this batch.
    keys_changed: bool = False

    def lot(self, lot_id: str) -> Lot | None:
        found = self.changed.get(lot_id)
        return found if found is not None else self.stored.get(lot_id)

    def commit(self, event_row: dict[str, Any], effects: Effects) -> int:
        """Take an accepted event's effects into the overlay; returns its sequence number."""
        seq = self.next_seq
        self.next_seq += 1
        event_row["seq"] = seq
        self.events.append(event_row)
        self.bodies[event_row["id"]] = event_row["body"]
        for lot in effects.lots:
            self.changed[lot.id] = lot
        self.links.extend(
            {"lot": lot_id, "seq": seq, "role": role, "mass_kg": kg}
            for lot_id, role, kg in effects.links
        )
        if effects.discrepancy is not None:
            self.discrepancies.append((seq, effects.discrepancy))
        if effects.record is not None:
            self.registry.add(effects.record, seq)  # dates its keys by log position
            self.keys_changed = self.keys_changed or isinstance(effects.record, Participant)
            self.records.append((seq, effects.record))
        if effects.case is not None:
            self.registry.add_case(effects.case)
            self.cases.append((seq, effects.case))
        step = moved(event_row["type"], effects.record, effects.case)
        if step is not None:
            self.case_steps.append({"seq": seq, "kind": step[0], "id": step[1]})
        return seq
