"""The one write path: verify → parse → check rules → apply → write → log, a batch at a time.

Every accepted event is applied whole, written in the same transaction as the rest of its
batch with a fresh random salt, and appended to the Merkle log as the salted commitment
``SHA-256(salt || event)`` under a checkpoint signed in that transaction; a
rejected event leaves no trace. Re-sending an event that is already in the ledger (the same
once canonicalised, RFC 8785) is a no-op; a different event under a used id is rejected.
Signatures are checked in worker processes, two batches ahead of the batch being applied.
"""

from __future__ import annotations

import gc
import json
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from raretrace.domain import jsontext
from raretrace.domain.clearinghouse import case_lots
from raretrace.domain.errors import ConfigError, RaretraceError, ValidationError
from raretrace.domain.events import (
    AdjustEvent,
    CaseEvent,
    ClaimEvent,
    LedgerEvent,
    ReceiveEvent,
    RevocationEvent,
    ShipEvent,
    TransformEvent,
    parse_event,
)
from raretrace.domain.keys import KeyHistory
from raretrace.domain.model import Lot, Tolerance
from raretrace.domain.registry import Registry
from raretrace.domain.rules import apply
from raretrace.ledger.batch import BatchState
from raretrace.ledger.cache import LotCache
from raretrace.ledger.keylog import KeyLog
from raretrace.ledger.logdir import bind_for_write, database_location
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.signatures import Checked, SignatureChecker, as_error, check_one
from raretrace.ledger.transparency import MIGRATION_STAGING, LedgerLog, latest_checkpoint
from raretrace.ledger.writes import write_batch
from raretrace.log.commitment import commitment, new_salt
from raretrace.log.tile_format import MAX_ENTRY_SIZE
from raretrace.store.engine import WRITE_OPTION
from raretrace.store.store import Store

DEFAULT_BATCH = 2000
#: Chunks whose signatures are being checked ahead of the one being applied.
AHEAD = 2


@dataclass(frozen=True, slots=True)
class Rejection:
    """One refused input: where it was, which event, and the rule it broke."""

    line: int
    event_id: str | None
    error: RaretraceError

    @property
    def rule(self) -> str:
        return self.error.rule if isinstance(self.error, ValidationError) else "format"


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: counts, and the rejections in input order."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    discrepancies: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    #: The signed checkpoint after the last committed batch (None if nothing was accepted).
    checkpoint: str | None = None

    def add(self, other: IngestReport) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.discrepancies += other.discrepancies
        self.rejections.extend(other.rejections)
        self.checkpoint = other.checkpoint or self.checkpoint


Item = str | dict[str, Any]
Source = Iterable[tuple[int, Item]]


def _referenced_lots(event: LedgerEvent) -> list[str]:
    if isinstance(event, ShipEvent | ReceiveEvent | AdjustEvent | ClaimEvent):
        return [event.lot]
    if isinstance(event, RevocationEvent):
        return [] if event.lot is None else [event.lot]
    if isinstance(event, CaseEvent):  # a dispute may name a lot (docs/clearinghouse.md)
        return case_lots(event.raw)
    if isinstance(event, TransformEvent):
        return [i.lot for i in event.inputs] + [o.lot for o in event.outputs]
    outputs = getattr(event, "outputs", ())
    return [o.lot for o in outputs]


def _decode(item: Item) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    try:
        obj = jsontext.loads(item)
    except jsontext.DecodeError as exc:
        raise ValidationError(
            "format", "line", f"not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    if not isinstance(obj, dict):
        raise ValidationError("format", "line", "each line must hold one JSON object")
    return obj


@dataclass(frozen=True, slots=True)
class _Parsed:
    """An input that parsed, with the workers' leaf and signature verdict for it."""

    line: int
    event: LedgerEvent
    item: Item
    leaf: str | None
    verdict: tuple[str, str, str] | None


@dataclass(slots=True)
class _Pending:
    """A chunk of input whose signatures are being checked against a registry version."""

    chunk: list[tuple[int, Item]]
    verdicts: Future[list[Checked]]
    keys_version: int


class Ledger:
    """The append path over one store. Not thread-safe: one Ledger writes at a time."""

    def __init__(self, store: Store, *, checker: SignatureChecker | None = None) -> None:
        store.require_ready()
        self.store = store
        self.settings = LedgerSettings.from_meta(store.meta())
        if self.settings.clear_leaves or self._migrating():
            store.close()
            raise clear_log_refusal(self.settings, store)
        self.tolerance: Tolerance = self.settings.tolerance
        self.log = LedgerLog(self.settings.log)
        self._registry: Registry = store.registry()
        self._key_log = KeyLog(self.settings)  # who may sign, by log position
        with store.engine.connect() as conn:
            self._registry.keys = self._key_log.read(conn, store.size(conn))
        self._cache = LotCache()
        self._checker = checker or SignatureChecker()
        self._keys_version = 0

    def _migrating(self) -> bool:
        return (self.settings.log.directory / MIGRATION_STAGING).exists()

    @property
    def registry(self) -> Registry:
        return self._registry

    def close(self) -> None:
        """Stop the signature workers and release database connections."""
        self._checker.close()
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def keys(self, registry: Registry | None = None) -> KeyHistory:
        """Who may sign: every participant key with its log positions, and the registry
        authority's configured keys; the next append is signed by a key registered and not
        revoked (docs/formats.md, "Signatures")."""
        return (registry or self._registry).keys

    def _reread_registry(self, conn: Connection, size: int) -> Registry:
        registry = self.store.registry(conn)
        registry.keys = self._key_log.read(conn, size)
        return registry

    def append(self, event: dict[str, Any]) -> IngestReport:
        """Apply one event (a batch of one); raises the rejection instead of reporting it."""
        report = self.ingest([(1, event)])
        if report.rejections:
            raise report.rejections[0].error
        return report

    def ingest(
        self,
        source: Source,
        *,
        batch_size: int = DEFAULT_BATCH,
        on_batch: Callable[[IngestReport], None] | None = None,
    ) -> IngestReport:
        """Apply a stream of (line number, JSON text or object), a transaction per batch."""
        report = IngestReport()
        pending: deque[_Pending] = deque()
        with _young_garbage_only():
            for chunk in _chunks(source, batch_size):
                # Checked by the workers while earlier chunks are applied here.
                pending.append(self._submit(chunk))
                if len(pending) > AHEAD:
                    self._ingest_batch(pending.popleft(), report)
                    if on_batch is not None:
                        on_batch(report)
            while pending:
                self._ingest_batch(pending.popleft(), report)
                if on_batch is not None:
                    on_batch(report)
        return report

    def _submit(self, chunk: list[tuple[int, Item]]) -> _Pending:
        items = [item for _, item in chunk]
        future = self._checker.submit(items, self.keys(), self.settings.require_signatures)
        return _Pending(chunk, future, self._keys_version)

    def _ingest_batch(self, pending: _Pending, report: IngestReport) -> None:
        batch = IngestReport()
        stale = pending.keys_version != self._keys_version  # keys changed since submitted
        events: list[_Parsed] = []
        for (line, item), (leaf, verdict) in zip(
            pending.chunk, pending.verdicts.result(), strict=True
        ):
            try:
                event = parse_event(_decode(item))
            except ValidationError as exc:
                batch.rejected += 1
                batch.rejections.append(Rejection(line, _event_id(item), exc))
                continue
            events.append(_Parsed(line, event, item, None if stale else leaf, verdict))
        self._commit_batch(events, batch)
        # Parse rejections come before rule rejections; batches arrive in line order.
        batch.rejections.sort(key=lambda r: r.line)
        report.add(batch)
        if gc.get_count()[0] > YOUNG_GARBAGE_LIMIT:
            gc.collect(1)

    def _commit_batch(self, events: list[_Parsed], batch: IngestReport) -> None:
        lot_ids = {lot for p in events for lot in _referenced_lots(p.event)}
        registry_before = self._registry
        try:
            with writer_transaction(self.store) as conn:
                size = self.store.size(conn)
                keys_before = self._registry.keys
                if self._cache.size != size:  # someone else wrote: re-read the registry too
                    self._registry = registry_before = self._reread_registry(conn, size)
                state = BatchState(
                    registry=_copy_registry(self._registry),
                    stored=self._read_lots(conn, size, lot_ids),
                    next_seq=size,
                    # Another writer changed keys: check this batch's signatures again here.
                    keys_changed=self._registry.keys is not keys_before,
                )
                state.bodies.update(self.store.event_bodies(conn, (p.event.id for p in events)))
                for parsed in events:
                    self._apply_one(state, parsed, batch)
                written = write_batch(conn, state, self._cache)
                if state.events:
                    leaves = [commitment(r["salt"], r["body"].encode()) for r in state.events]
                    batch.checkpoint = self.log.append(conn, start=size, leaves=leaves)
        except BaseException:
            self._registry = registry_before
            self._cache.clear()
            self.log.forget_position()
            raise
        if batch.checkpoint is not None:
            self._publish_latest()
        for lot, provenance_json in written:
            self._cache.put(lot, provenance_json)
        self._cache.size = state.next_seq
        self._key_log.caught_up(state.registry.keys, state.next_seq)
        if state.keys_changed:
            self._keys_version += 1
        self._registry = state.registry

    def _publish_latest(self) -> None:
        # Under the writer lock, publish the newest stored note (with any cosignatures a
        # witness added meanwhile), so concurrent writers never publish out of order.
        with writer_transaction(self.store) as conn:
            note = latest_checkpoint(conn)
            if note is not None:
                self.log.publish(note)

    def _read_lots(self, conn: Connection, size: int, ids: set[str]) -> dict[str, Lot]:
        """Lots by id, from the cache where it is still valid, else from the database."""
        self._cache.validate(size)
        found = self._cache.lots(ids)
        missing = ids - found.keys()
        if missing:
            for lot_id, (lot, provenance_json) in self.store.lots_by_id(conn, missing).items():
                self._cache.put(lot, provenance_json)
                found[lot_id] = lot
        return found

    def _apply_one(self, state: BatchState, parsed: _Parsed, report: IngestReport) -> None:
        event, leaf, verdict = parsed.event, parsed.leaf, parsed.verdict
        try:
            if leaf is None or state.keys_changed:
                # Keys changed since the workers checked this event: check it again here.
                leaf, verdict = check_one(
                    parsed.item, self.keys(state.registry), self.settings.require_signatures
                )
            if verdict is not None:
                raise as_error(verdict)
            if leaf is None:  # pragma: no cover - parse_event accepted it, so it is JSON
                raise ValidationError("format", f"event {event.id!r}", "has no JSON form")
            _check_entry_size(event, leaf)
            known = state.bodies.get(event.id)
            if known is not None:
                if known != leaf:
                    raise ValidationError(
                        "duplicate-event-id",
                        f"event {event.id!r}",
                        "an accepted event already has this id with different content;"
                        " give every event a unique id",
                    )
                report.duplicates += 1
                return
            effects = apply(state, event, state.next_seq, self.tolerance)
        except ValidationError as exc:
            report.rejected += 1
            report.rejections.append(Rejection(parsed.line, event.id, exc))
            return
        row: dict[str, Any] = {"id": event.id, "type": event.type, "time": event.time}
        row["actor"], row["body"], row["salt"] = event.actor, leaf, new_salt()
        state.commit(row, effects)
        report.accepted += 1
        if effects.discrepancy is not None:
            report.discrepancies += 1


def clear_log_refusal(settings: LedgerSettings, store: Store) -> ConfigError:
    """Why a ledger whose log holds events in clear takes no more (and what to run)."""
    if not settings.clear_leaves:
        return ConfigError(
            f"`raretrace log migrate` of {settings.log.directory} did not finish; run it again"
            f" to finish it: `raretrace log migrate --db {database_location(store.engine.url)}`"
        )
    return ConfigError(
        f"the log of this ledger ({settings.log.origin}) publishes its events in clear (made"
        " before salted commitments), so it accepts no event until it moves to a new log whose"
        f" entries reveal nothing: run `raretrace log migrate --db"
        f' {database_location(store.engine.url)}` (docs/log.md, "Moving a clear-text log to'
        ' commitments"); reading, proving and exporting work as before'
    )


def _check_entry_size(event: LedgerEvent, leaf: str) -> None:
    # A UTF-8 character is at most 4 bytes: short leaves need no encoding to be measured.
    if len(leaf) <= MAX_ENTRY_SIZE // 4:
        return
    size = len(leaf.encode("utf-8"))
    if size > MAX_ENTRY_SIZE:
        raise ValidationError(
            "event-too-large",
            f"event {event.id!r}",
            f"its canonical JSON is {size:,} bytes; a log entry holds at most"
            f" {MAX_ENTRY_SIZE:,} (C2SP tlog-tiles); move bulky data elsewhere",
        )


@contextmanager
def writer_transaction(store: Store, *, check_log: bool = True) -> Iterator[Connection]:
    """A transaction holding the ledger's one-writer lock; everything that writes uses it.

    Before anything is written it checks that the log directory is this database's own and
    exactly as far along (``logdir.bind_for_write``): a copy of the database, or a directory
    ahead of or diverged from it, is refused with a ConfigError saying what to do. Only
    ``raretrace init`` (re-binding or re-homing a log) passes ``check_log=False``.
    """
    with store.engine.connect() as conn:
        with _writing(conn).begin():
            _lock_writers(conn)
            binding = (
                bind_for_write(conn, LedgerSettings.from_meta(store.meta(conn)))
                if check_log
                else None
            )
            yield conn
        if binding is not None:
            binding.settle()


def _lock_writers(conn: Connection) -> None:
    # One writer at a time: sequence numbers are assigned from the current size. SQLite's
    # BEGIN IMMEDIATE already serializes; PostgreSQL needs a transaction-scoped lock.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITER_LOCK})


_PG_WRITER_LOCK = 0x52415245  # "RARE"


def _writing(conn: Connection) -> Connection:
    return conn.execution_options(**{WRITE_OPTION: True})


def _event_id(item: Item) -> str | None:
    if isinstance(item, dict):
        value = item.get("id")
        return value if isinstance(value, str) else None
    try:
        value = json.loads(item).get("id")  # lenient: the id of any JSON object
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _copy_registry(reg: Registry) -> Registry:
    return reg.copy()


#: Young container objects allowed to pile up before an ingest collects generations 0-1.
#: The demo stream levels off near 240,000 (the lot cache's live objects): reference
#: counting frees everything else, so this only catches cycles made outside the append path.
YOUNG_GARBAGE_LIMIT = 500_000


@contextmanager
def _young_garbage_only() -> Iterator[None]:
    """Collect only young objects, and only when they pile up, while ingesting.

    The lot cache keeps ~10^5 long-lived objects; Python's automatic collector would walk
    all of them over and over during a large ingest (measured: a third of the run time),
    and even a young collection after every batch cost 7 µs an event. The append path makes
    no reference cycles of its own, so between batches generations 0-1 are collected only
    past ``YOUNG_GARBAGE_LIMIT`` objects; full collections resume afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _chunks(source: Source, size: int) -> Iterator[list[tuple[int, Item]]]:
    chunk: list[tuple[int, Item]] = []
    for item in source:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
