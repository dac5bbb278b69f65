"""``raretrace audit``: replay the whole store from its events alone and compare with the rest.

Nothing stored is trusted except the events table, the ledger's settings (``meta``) and the log
directory: every event is re-verified (signature under the registry as it stood at that point
of the log, canonical JSON per RFC 8785, its rules), replayed in sequence order through the same
pure domain code the append path uses, and hashed into an RFC 9162 Merkle tree. The result is
compared with every table the append path writes (lots, lot_events, discrepancies, registry),
with every stored checkpoint, with the tiles on disk, and, for a sample of lots, with the
recursive lineage recomputation. A row changed, deleted, inserted or reordered directly in the
database shows as one or more findings naming the table, the row and what differs.

Events are streamed in sequence order (server-side cursors), and only lot state is kept in
memory. Signatures are checked in worker processes a few chunks ahead of the replay.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, func, select

from raretrace.domain import jsontext, lineage
from raretrace.domain.clearinghouse import CASE_KINDS, Case, moved
from raretrace.domain.errors import RaretraceError, ValidationError
from raretrace.domain.events import parse_event
from raretrace.domain.licensing import ComplianceRecord
from raretrace.domain.model import Lot
from raretrace.domain.registry import Registry
from raretrace.domain.rules import Effects, apply
from raretrace.ledger.audit_cases import compare_cases
from raretrace.ledger.audit_log import _LogCheck
from raretrace.ledger.audit_report import (
    CHUNK,
    AuditReport,
    Finding,
    _event_key,
    _stream,
)
from raretrace.ledger.audit_signatures import Verdict, _Verifier
from raretrace.ledger.recompute import StoredHistory
from raretrace.ledger.settings import LedgerSettings
from raretrace.store import schema
from raretrace.store.rows import (
    compliance_record_row,
    lot_from_row,
    lot_to_row,
    record_row,
    registry_record_json,
)
from raretrace.store.store import Store

__all__ = ["AuditReport", "Finding", "audit_ledger"]

AHEAD = 2  # chunks submitted for verification ahead of the one being replayed
_LOT_COLUMNS = [c.name for c in schema.lots.columns]


# --- the replay ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Replay:
    """The ledger rebuilt from events (implements ``rules.LedgerState``)."""

    registry: Registry = field(default_factory=Registry)
    lots: dict[str, Lot] = field(default_factory=dict)
    record_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    #: The clearinghouse (docs/clearinghouse.md): each case's last event, and every step.
    case_seq: dict[str, int] = field(default_factory=dict)
    case_steps: list[tuple[int, str, str]] = field(default_factory=list)

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)

    def take(self, seq: int, effects: Effects, event_type: str = "") -> None:
        for lot in effects.lots:
            self.lots[lot.id] = lot
        record = effects.record
        if record is not None:
            self.registry.add(record, seq)  # keys dated by log position
            self.record_seq[(registry_record_json(record)[0], record.id)] = seq
        if effects.case is not None:
            self.registry.add_case(effects.case)
            self.case_seq[f"{CASE_KINDS[type(effects.case)]}:{effects.case.id}"] = seq
        step = moved(event_type, effects.record, effects.case)
        if step is not None:
            self.case_steps.append((seq, *step))


class _Merge:
    """Compares a stored table, streamed in key order, with the rows the replay produces."""

    def __init__(self, rows: Iterator[tuple[Any, ...]], table: str, report: AuditReport) -> None:
        self._rows = rows
        self._next = next(rows, None)
        self.table, self.report = table, report

    def _extra(self, row: tuple[Any, ...]) -> None:
        self.report.add(
            "tables", self.table, f"seq {row[0]} {tuple(row[1:3])}",
            "stored row that no event produces (inserted, or its event was changed or removed)",
        )  # fmt: skip

    def at(self, seq: int, expected: list[tuple[Any, ...]]) -> None:
        """Check the stored rows of event ``seq`` against ``expected`` (sorted like the table)."""
        while self._next is not None and self._next[0] < seq:
            self._extra(self._next)
            self._next = next(self._rows, None)
        stored = []
        while self._next is not None and self._next[0] == seq:
            stored.append(tuple(self._next))
            self._next = next(self._rows, None)
        if stored == expected:
            return
        by_key = {r[:3]: r for r in stored}
        for row in expected:
            found = by_key.pop(row[:3], None)
            where = f"seq {seq} {tuple(row[1:3])}"
            if found is None:
                self.report.add("tables", self.table, where, f"missing; the replay gives {row[3:]}")
            elif found != row:
                self.report.add(
                    "tables", self.table, where, f"stored {found[3:]}, replay {row[3:]}"
                )
        for row in by_key.values():
            self._extra(row)

    def finish(self) -> None:
        while self._next is not None:
            self._extra(self._next)
            self._next = next(self._rows, None)


def _links(seq: int, effects: Effects) -> list[tuple[Any, ...]]:
    return sorted((seq, lot, role, kg) for lot, role, kg in effects.links)


def _discrepancy(seq: int, effects: Effects) -> list[tuple[Any, ...]]:
    d = effects.discrepancy
    if d is None:
        return []
    return [(seq, d.lot, d.origin, d.destination, d.shipped_kg, d.received_kg, d.ship_seq, d.time)]


# --- the audit ----------------------------------------------------------------------------------


class _Audit:
    """One pass over a consistent snapshot of the store."""

    def __init__(
        self, conn: Connection, settings: LedgerSettings, vkey: str | None, report: AuditReport
    ) -> None:
        self.conn, self.settings, self.report = conn, settings, report
        self.replay = _Replay()
        self.log = _LogCheck(conn, settings, vkey, report)
        le, d = schema.lot_events, schema.discrepancies
        self.links = _Merge(
            _stream(
                conn,
                select(le.c.seq, le.c.lot, le.c.role, le.c.mass_kg).order_by(
                    le.c.seq, le.c.lot, le.c.role
                ),
            ),
            "lot_events",
            report,
        )
        columns = [
            d.c.seq,
            d.c.lot,
            d.c.origin,
            d.c.destination,
            d.c.shipped_kg,
            d.c.received_kg,
            d.c.ship_seq,
            d.c.time,
        ]
        self.discrepancies = _Merge(
            _stream(conn, select(*columns).order_by(d.c.seq)), "discrepancies", report
        )
        self.expected_seq = 0

    def events(self, verifier: _Verifier) -> None:
        verifier.read_keys(self.conn)  # every key's log positions, before the replay
        e = schema.events
        columns = (e.c.seq, e.c.id, e.c.type, e.c.time, e.c.actor, e.c.body, e.c.salt)
        query = select(*columns).order_by(e.c.seq)
        rows = self.conn.execute(query.execution_options(stream_results=True, yield_per=CHUNK))
        pending: deque[tuple[Sequence[Any], list[Future[list[Verdict]]]]] = deque()
        for chunk in rows.partitions():
            pending.append((chunk, verifier.submit([(r[0], r[5]) for r in chunk])))
            if len(pending) > AHEAD:
                self._replay_chunk(*pending.popleft())
        while pending:
            self._replay_chunk(*pending.popleft())
        self.links.finish()
        self.discrepancies.finish()
        self.log.finish()

    def _replay_chunk(self, chunk: Sequence[Any], futures: list[Future[list[Verdict]]]) -> None:
        verdicts = [v for f in futures for v in f.result()]
        for row, verdict in zip(chunk, verdicts, strict=True):
            self._event(row, verdict)
        self.report.events += len(chunk)

    def _event(self, row: Any, verdict: Verdict) -> None:
        seq, event_id, body = row[0], row[1], row[5]
        key = _event_key(seq, event_id)
        self._sequence(seq, key)
        self.log.add(body.encode("utf-8"), row[6], key)
        if verdict is not None:
            self.report.add(verdict[0], "events", key, verdict[1])
        try:
            event = parse_event(jsontext.loads(body))
            self._columns(row, event.id, event.type, event.time, event.actor, key)
            effects = apply(self.replay, event, seq, self.settings.tolerance)
        except ValidationError as exc:
            self.report.add(
                "rules", "events", key, f"the rules reject this stored event: {exc.message}"
            )
            effects = Effects()
        except ValueError as exc:
            self.report.add("rules", "events", key, f"body is not JSON: {exc}")
            effects = Effects()
        self.replay.take(seq, effects, row[2])
        self.links.at(seq, _links(seq, effects))
        self.discrepancies.at(seq, _discrepancy(seq, effects))

    def _sequence(self, seq: int, key: str) -> None:
        if seq != self.expected_seq:
            if seq > self.expected_seq:
                gap = f"seq {self.expected_seq}" + (
                    f"..{seq - 1}" if seq - 1 > self.expected_seq else ""
                )
                self.report.add(
                    "sequence",
                    "events",
                    key,
                    f"{gap} missing: sequence numbers jump from {self.expected_seq - 1} to {seq};"
                    " events were deleted",
                )
            else:
                self.report.add(
                    "sequence",
                    "events",
                    key,
                    f"expected seq {self.expected_seq}; sequence numbers go backwards",
                )
        self.expected_seq = seq + 1

    def _columns(self, row: Any, *fields: str) -> None:
        *values, key = fields
        for name, stored, parsed in zip(
            ("id", "type", "time", "actor"), row[1:5], values, strict=True
        ):
            if stored != parsed:
                self.report.add(
                    "tables",
                    "events",
                    key,
                    f"column {name} is {stored!r} but the body says {parsed!r}",
                )

    def duplicates(self) -> None:
        e = schema.events
        query = select(e.c.id, func.count()).group_by(e.c.id).having(func.count() > 1)
        for event_id, count in self.conn.execute(query):
            self.report.add(
                "sequence",
                "events",
                f"id {event_id!r}",
                f"appears {count} times; event ids must be unique",
            )

    def lots(self, sample: set[str]) -> dict[str, Mapping[str, Any]]:
        """Compare the ``lots`` table with the replay; returns the stored rows of ``sample``."""
        ids = sorted(self.replay.lots)
        self.report.lots = len(ids)
        kept: dict[str, Mapping[str, Any]] = {}
        query = select(schema.lots).order_by(schema.lots.c.id)
        rows = self.conn.execute(
            query.execution_options(stream_results=True, yield_per=CHUNK)
        ).mappings()
        position = 0
        for row in rows:
            while position < len(ids) and ids[position] < row["id"]:
                self._missing_lot(ids[position])
                position += 1
            if position < len(ids) and ids[position] == row["id"]:
                self._compare_lot(row, self.replay.lots[ids[position]])
                position += 1
                if row["id"] in sample:
                    kept[row["id"]] = dict(row)
            else:
                self.report.add(
                    "tables",
                    "lots",
                    f"lot {row['id']!r}",
                    "stored lot that no event creates (inserted directly, or its creating event"
                    " was changed or removed)",
                )
        for lot_id in ids[position:]:
            self._missing_lot(lot_id)
        return kept

    def _missing_lot(self, lot_id: str) -> None:
        seq = self.replay.lots[lot_id].created_seq
        self.report.add(
            "tables",
            "lots",
            f"lot {lot_id!r}",
            f"missing; event seq {seq} creates it (row deleted)",
        )

    def _compare_lot(self, row: Mapping[Any, Any], lot: Lot) -> None:
        expected = lot_to_row(lot, None)
        for name in _LOT_COLUMNS:
            stored, again = row[name], expected[name]
            if stored == again:
                continue
            if name in ("elements", "provenance") and _same_json(stored, again):
                continue
            if name == "provenance":
                stored, again = "(see lineage)", "differs"
            self.report.add(
                "tables", "lots", f"lot {lot.id!r}", f"{name}: stored {stored!r}, replay {again!r}"
            )

    def registry(self) -> None:
        reg = self.replay.registry
        p, f = schema.participants, schema.facilities
        participants = {r.id: r for r in self.conn.execute(select(p))}
        for pid, record in reg.participants.items():
            expected = record_row(record, self.replay.record_seq[("participant", pid)])
            self._compare_record(
                "participants", f"participant {pid!r}", participants.pop(pid, None), expected
            )
        facilities = {r.id: r for r in self.conn.execute(select(f))}
        for fid, fac in reg.facilities.items():
            expected = record_row(fac, self.replay.record_seq[("facility", fid)])
            self._compare_record(
                "facilities", f"facility {fid!r}", facilities.pop(fid, None), expected
            )
        cases: dict[str, Case] = {f"agreement:{k}": v for k, v in reg.agreements.items()}
        cases.update({f"dispute:{k}": v for k, v in reg.disputes.items()})
        compare_cases(self.conn, cases, self.replay.case_seq, self.replay.case_steps, self.report)
        records = self._compare_compliance_records()
        for table, extra in (
            ("participants", participants), ("facilities", facilities),
            ("registry_records", records),
        ):  # fmt: skip
            for rid in extra:
                self.report.add(
                    "tables",
                    table,
                    repr(rid),
                    "stored record that no registry event registers (inserted directly)",
                )

    def _compare_compliance_records(self) -> dict[tuple[str, str], Any]:
        """Compare licences, accreditations and audits; returns the stored rows no event made."""
        reg, table = self.replay.registry, schema.registry_records
        stored = {(r.kind, r.id): r for r in self.conn.execute(select(table))}
        records: list[ComplianceRecord] = [
            *reg.accreditations.values(), *reg.licences.values(), *reg.audits.values(),
        ]  # fmt: skip
        for record in records:
            kind = registry_record_json(record)[0]
            expected = compliance_record_row(record, self.replay.record_seq[(kind, record.id)])
            row = stored.pop((kind, record.id), None)
            self._compare_record("registry_records", f"{kind} {record.id!r}", row, expected)
        return stored

    def _compare_record(self, table: str, key: str, row: Any, expected: dict[str, Any]) -> None:
        if row is None:
            self.report.add(
                "tables", table, key, "missing; a registry event registers it (row deleted)"
            )
            return
        for name, value in expected.items():
            stored = getattr(row, name)
            if stored != value and not (name == "body" and _same_json(stored, value)):
                self.report.add(
                    "tables", table, key, f"{name}: stored {stored!r}, replay {value!r}"
                )

    def lineage(self, stored: dict[str, Mapping[str, Any]]) -> None:
        history = StoredHistory(self.conn)
        history.load_registry()
        # One memo for the sample: lots sharing upstream lineage derive it once (linear,
        # not quadratic, in a magnet's lineage); renewed every 1,000 lots to bound memory.
        memo = lineage.Recomputation(history, self.settings.tolerance)
        for n, lot_id in enumerate(sorted(stored)):
            if n % 1000 == 999:
                history.lot_events.clear()  # bounded memory for --full
                memo = lineage.Recomputation(history, self.settings.tolerance)
            self.report.lineage_lots += 1
            try:
                again = memo.lot(lot_id)
                diffs = lineage.differences(lot_from_row(stored[lot_id]), again)
            except (RaretraceError, KeyError, StopIteration, TypeError, ValueError) as exc:
                diffs = [f"cannot be recomputed from its events: {exc!r}"]
            for diff in diffs:
                self.report.add(
                    "lineage", "lots", f"lot {lot_id!r}", f"lineage recomputation: {diff}"
                )


def _same_json(a: object, b: object) -> bool:
    try:
        return isinstance(a, str) and isinstance(b, str) and jsontext.loads(a) == jsontext.loads(b)
    except ValueError:
        return False


def _sample(ids: Sequence[str], count: int, full: bool) -> set[str]:
    if full or count >= len(ids):
        return set(ids)
    return set(random.Random(len(ids)).sample(sorted(ids), count))


def audit_ledger(
    store: Store,
    *,
    lineage_sample: int = 200,
    full: bool = False,
    vkey: str | None = None,
    workers: int | None = None,
    require_signatures: bool = False,
) -> AuditReport:
    """Replay ``store`` from its events and report every difference with what is stored.

    ``vkey`` is the log's verifier key to trust (default: ``log.vkey`` in the log directory);
    ``lineage_sample`` lots (all with ``full``) are also recomputed through their lineage.
    ``require_signatures`` checks every event's signature whatever the stored settings say,
    since whoever can edit the database can also edit its settings.
    """
    store.require_ready()
    settings = LedgerSettings.from_meta(store.meta())
    report = AuditReport()
    if require_signatures and not settings.require_signatures:
        report.add(
            "signature", "meta", "signatures",
            "the ledger's settings accept unsigned events; every event is checked as if they"
            " did not (created with `init --allow-unsigned`, or the setting was edited)",
        )  # fmt: skip
        settings = replace(settings, require_signatures=True)
    started = time.perf_counter()
    verifier = _Verifier(settings, workers)
    try:
        with store.engine.connect() as plain:
            conn = (
                plain.execution_options(isolation_level="REPEATABLE READ")
                if plain.dialect.name == "postgresql"
                else plain
            )
            with conn.begin():  # one snapshot: a concurrent append is not half-seen
                audit = _Audit(conn, settings, vkey, report)
                audit.events(verifier)
                audit.duplicates()
                audit.registry()
                sample = _sample(list(audit.replay.lots), lineage_sample, full)
                audit.lineage(audit.lots(sample))
    finally:
        verifier.close()
    report.seconds = time.perf_counter() - started
    return report
