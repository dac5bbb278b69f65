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

import base64
import binascii
import json
import multiprocessing
import os
import random
import sys
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from raretrace.domain import lineage
from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import RaretraceError, ValidationError
from raretrace.domain.events import RegistryEvent, parse_event
from raretrace.domain.keys import ParticipantKey, check_signature
from raretrace.domain.model import REGISTRY_ACTOR, Lot, Participant, normalize_time
from raretrace.domain.registry import Registry, parse_participant
from raretrace.domain.rules import Effects, apply
from raretrace.ledger.recompute import StoredHistory
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.transparency import VKEY_FILE
from raretrace.log.checkpoint import verify_checkpoint
from raretrace.log.merkle import CompactRange, leaf_hash
from raretrace.log.note import Ed25519Verifier
from raretrace.log.tiles import TileReader, encode_entry_bundle, entries_path, tile_path
from raretrace.store import schema
from raretrace.store.rows import facility_to_json, lot_from_row, lot_to_row, participant_to_json
from raretrace.store.store import Store

__all__ = ["AuditReport", "Finding", "audit_ledger"]

Keys = Mapping[str, tuple[ParticipantKey, ...]]
#: A worker's verdict on one event: None when fine, else (check, message).
Verdict = tuple[str, str] | None
CHUNK = 4000  # events read, verified and replayed together
AHEAD = 2  # chunks submitted for verification ahead of the one being replayed
KEEP_FINDINGS = 10_000  # findings kept in the report; the rest are only counted
_LOT_COLUMNS = [c.name for c in schema.lots.columns]


@dataclass(frozen=True, slots=True)
class Finding:
    """One difference: which check found it, in which table, at which row, and what."""

    check: str
    table: str
    key: str
    message: str

    def line(self) -> str:
        return f"{self.table} {self.key}: {self.message}"


@dataclass(slots=True)
class AuditReport:
    """What an audit checked and every difference it found (the first ``KEEP_FINDINGS``)."""

    events: int = 0
    lots: int = 0
    checkpoints: int = 0
    tiles: int = 0
    lineage_lots: int = 0
    seconds: float = 0.0
    tree_size: int = 0
    root: str = ""
    findings: list[Finding] = field(default_factory=list)
    total_findings: int = 0
    by_check: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.total_findings == 0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def add(self, check: str, table: str, key: str, message: str) -> None:
        self.total_findings += 1
        self.by_check[check] = self.by_check.get(check, 0) + 1
        if len(self.findings) < KEEP_FINDINGS:
            self.findings.append(Finding(check, table, key, message))

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "events_per_s": round(self.events_per_s),
            "seconds": round(self.seconds, 3),
            "lots": self.lots,
            "checkpoints": self.checkpoints,
            "tiles": self.tiles,
            "lineage_lots": self.lineage_lots,
            "tree_size": self.tree_size,
            "root": self.root,
            "differences": self.total_findings,
            "by_check": dict(sorted(self.by_check.items())),
            "findings": [asdict(f) for f in self.findings],
        }


def _event_key(seq: int, event_id: object) -> str:
    return f"seq {seq} ({event_id!r})" if event_id is not None else f"seq {seq}"


# --- signatures and canonical form, in worker processes ----------------------------------------

_public_keys: dict[bytes, Ed25519PublicKey] = {}  # per process: loading a key costs ~30 µs


def _public_key(raw: bytes) -> Ed25519PublicKey:
    key = _public_keys.get(raw)
    if key is None:
        key = _public_keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
    return key


def _without_member(leaf: str, member: str) -> str | None:
    """Canonical JSON of the object without one top-level member (None if ambiguous).

    RFC 8785 §3.2.3 writes an object as its members in a fixed order joined by commas, so
    cutting out the ``"sig"`` member's text gives exactly the canonical JSON of the rest.
    """
    if leaf.count(member) != 1:
        return None
    i = leaf.index(member)
    j = i + len(member)
    if leaf[i - 1] == ",":
        return leaf[: i - 1] + leaf[j:]
    return leaf[:i] + leaf[j + 1 :] if leaf[j] == "," else leaf[:i] + leaf[j:]


def _fast_signature_ok(raw: dict[str, Any], leaf: str, index: Mapping[Any, ParticipantKey]) -> bool:
    """True when the event verifies by the quick route; False means "ask check_signature"."""
    sig = raw.get("sig")
    if type(sig) is not dict or sig.get("alg") != "Ed25519":
        return False
    key = index.get((raw.get("actor"), sig.get("kid")))
    value = sig.get("value")
    if key is None or type(value) is not str:
        return False
    try:
        when = normalize_time(raw.get("time"), "event")
        signature = base64.b64decode(value, validate=True)
        signed = _without_member(leaf, '"sig":' + canonical_json(sig).decode("utf-8"))
        if signed is None or len(signature) != 64 or not key.valid_at(when):
            return False
        _public_key(key.public_key).verify(signature, signed.encode("utf-8"))
    except (ValidationError, InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _check_one(
    body: str, keys: Keys, index: Mapping[Any, ParticipantKey], required: bool
) -> Verdict:
    try:
        raw = json.loads(body)
        if type(raw) is not dict:
            return None  # the replay reports it with the parser's message
        leaf = canonical_json(raw).decode("utf-8")
    except (ValueError, ValidationError):
        return None
    if leaf != body:
        return ("canonical", "body is not RFC 8785 canonical JSON (re-canonicalising changes it)")
    if (not required and "sig" not in raw) or _fast_signature_ok(raw, leaf, index):
        return None
    try:  # the exact verdict and message the append path gives
        check_signature(raw, normalize_time(raw.get("time"), f"event {raw.get('id')!r}"), keys)
    except ValidationError as exc:
        return ("signature", exc.message)
    return None


def _check_part(
    bodies: Sequence[str], changes: Sequence[tuple[int, Keys]], required: bool
) -> list[Verdict]:
    """Verdicts for ``bodies``; ``changes`` gives the keys in force from each offset on."""
    out: list[Verdict] = []
    bounds = [offset for offset, _ in changes[1:]] + [len(bodies)]
    for (start, keys), end in zip(changes, bounds, strict=True):
        index = {(owner, k.kid): k for owner, ks in keys.items() for k in ks}
        out.extend(_check_one(body, keys, index, required) for body in bodies[start:end])
    return out


class _Verifier:
    """Submits chunks of bodies to worker processes, with the keys in force for each event."""

    def __init__(self, settings: LedgerSettings, workers: int | None) -> None:
        self.required = settings.require_signatures
        self.registry_keys = settings.registry_keys
        self.participants: dict[str, tuple[ParticipantKey, ...]] = {}
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            # Started before any database connection is opened, so no worker inherits one.
            method = "fork" if sys.platform.startswith("linux") else "spawn"
            context = multiprocessing.get_context(method)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context)
            for done in [self._pool.submit(int) for _ in range(self.workers)]:
                done.result()

    def keys(self) -> dict[str, tuple[ParticipantKey, ...]]:
        return {**self.participants, REGISTRY_ACTOR: self.registry_keys}

    def _track(self, body: str) -> bool:
        """Follow participant records as the replay will; True if the keys changed."""
        if "participant" not in body and "\\u" not in body:
            return False  # cannot decode to a participant event
        try:
            event = parse_event(json.loads(body))
            if not isinstance(event, RegistryEvent) or event.type != "participant":
                return False
            record = parse_participant(event.record)
        except (ValueError, ValidationError):
            return False
        self.participants[record.id] = record.keys
        return True

    def submit(self, bodies: list[str]) -> list[Future[list[Verdict]]]:
        changes: list[tuple[int, Keys]] = [(0, self.keys())]
        for i, body in enumerate(bodies):
            if self._track(body):
                changes.append((i + 1, self.keys()))
        if self._pool is None:
            done: Future[list[Verdict]] = Future()
            done.set_result(_check_part(bodies, changes, self.required))
            return [done]
        step = -(-len(bodies) // self.workers)
        return [
            self._pool.submit(
                _check_part, bodies[a : a + step], _shift(changes, a, step), self.required
            )
            for a in range(0, len(bodies), step)
        ]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


def _shift(changes: list[tuple[int, Keys]], start: int, length: int) -> list[tuple[int, Keys]]:
    """The key changes that matter for ``bodies[start:start + length]``, re-based to 0."""
    first = max(i for i, (offset, _) in enumerate(changes) if offset <= start)
    inner = [(o - start, k) for o, k in changes[first + 1 :] if o < start + length]
    return [(0, changes[first][1]), *inner]


# --- the replay ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Replay:
    """The ledger rebuilt from events (implements ``rules.LedgerState``)."""

    registry: Registry = field(default_factory=Registry)
    lots: dict[str, Lot] = field(default_factory=dict)
    record_seq: dict[tuple[str, str], int] = field(default_factory=dict)

    def lot(self, lot_id: str) -> Lot | None:
        return self.lots.get(lot_id)

    def take(self, seq: int, effects: Effects) -> None:
        for lot in effects.lots:
            self.lots[lot.id] = lot
        record = effects.record
        if record is not None:
            self.registry.add(record)
            kind = "participant" if isinstance(record, Participant) else "facility"
            self.record_seq[(kind, record.id)] = seq


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


def _stream(conn: Connection, query: Any) -> Iterator[tuple[Any, ...]]:
    result = conn.execution_options(stream_results=True, yield_per=CHUNK).execute(query)
    for row in result:
        yield tuple(row)


def _links(seq: int, effects: Effects) -> list[tuple[Any, ...]]:
    return sorted((seq, lot, role, kg) for lot, role, kg in effects.links)


def _discrepancy(seq: int, effects: Effects) -> list[tuple[Any, ...]]:
    d = effects.discrepancy
    if d is None:
        return []
    return [(seq, d.lot, d.origin, d.destination, d.shipped_kg, d.received_kg, d.ship_seq, d.time)]


# --- the Merkle log: root, checkpoints, tiles ---------------------------------------------------


class _LogCheck:
    """Hashes leaves as they stream by and checks checkpoints and tiles against them."""

    def __init__(
        self, conn: Connection, settings: LedgerSettings, vkey: str | None, report: AuditReport
    ) -> None:
        self.report = report
        self.directory = settings.log.directory
        self.origin = settings.log.origin
        self.compact = CompactRange()
        self.rows: list[list[bytes]] = [[]]  # per tile level, the hashes of its current tile
        self.entries: list[bytes] = []
        self.has_tiles = self.directory.is_dir()
        if not self.has_tiles:
            report.add("tiles", "log", str(self.directory), "the log directory is missing")
        self.verifier = self._verifier(vkey)
        query = select(
            schema.checkpoints.c.size, schema.checkpoints.c.root, schema.checkpoints.c.note
        )
        self.checkpoints = _stream(conn, query.order_by(schema.checkpoints.c.size))
        self.pending = next(self.checkpoints, None)
        self.latest: int | None = None
        self.published = self._published()

    def _verifier(self, vkey: str | None) -> Ed25519Verifier | None:
        try:
            text = vkey or (self.directory / VKEY_FILE).read_text(encoding="utf-8")
            return Ed25519Verifier.from_vkey(text.strip())
        except (OSError, RaretraceError) as exc:
            self.report.add("checkpoints", "log", VKEY_FILE, f"no usable log verifier key: {exc}")
            return None

    def _published(self) -> tuple[int, bytes] | None:
        """The public ``checkpoint`` file's (size, root), if it verifies."""
        path = self.directory / "checkpoint"
        if self.verifier is None or not path.exists():
            return None
        try:
            cp = verify_checkpoint(path.read_bytes(), self.verifier, origin=self.origin)
        except RaretraceError as exc:
            self.report.add("checkpoints", "log", "checkpoint file", f"does not verify: {exc}")
            return None
        return cp.size, cp.root_hash

    def add(self, body: bytes) -> None:
        """Append one leaf; check what it completes."""
        self.entries.append(body)
        for (level, index), h in self.compact.append(leaf_hash(body)):
            if level % 8 == 0:
                tile_level = level // 8
                if tile_level == len(self.rows):
                    self.rows.append([])
                self.rows[tile_level].append(h)
                if len(self.rows[tile_level]) == 256:
                    self._full_tile(tile_level, index >> 8)
        if len(self.entries) == 256:
            self._full_bundle((self.compact.size >> 8) - 1)
        while self.pending is not None and self.pending[0] == self.compact.size:
            self._checkpoint(*self.pending)
            self.pending = next(self.checkpoints, None)
        if self.published is not None and self.published[0] == self.compact.size:
            self._compare_root("checkpoint file", self.published[1])

    def _full_tile(self, level: int, index: int) -> None:
        self.report.tiles += 1
        rel = tile_path(level, index)
        expected = b"".join(self.rows[level])
        self.rows[level] = []
        self._compare_file(rel, expected, 32)

    def _full_bundle(self, index: int) -> None:
        self.report.tiles += 1
        expected = encode_entry_bundle(self.entries)
        self.entries = []
        self._compare_file(entries_path(index), expected, 0)

    def _compare_file(self, rel: str, expected: bytes, hash_size: int) -> None:
        if not self.has_tiles:
            return
        try:
            data = (self.directory / rel).read_bytes()
        except OSError as exc:
            self.report.add(
                "tiles",
                "tiles",
                rel,
                f"cannot be read ({exc.strerror}); rebuild it from the events",
            )
            return
        if data == expected:
            return
        at = _first_difference(data, expected)
        where = f"hash {at // hash_size}" if hash_size else f"byte {at}"
        self.report.add(
            "tiles",
            "tiles",
            rel,
            f"differs from the events at {where} ({len(data)} bytes on disk,"
            f" {len(expected)} recomputed)",
        )

    def _checkpoint(self, size: int, root: str, note: str) -> None:
        self.report.checkpoints += 1
        key = f"size {size}"
        computed = self.compact.root()
        if root != computed.hex():
            self.report.add(
                "checkpoints",
                "checkpoints",
                key,
                f"root {root} but the first {size} events hash to {computed.hex()}",
            )
        if self.verifier is None:
            return
        try:
            cp = verify_checkpoint(note, self.verifier, origin=self.origin)
        except RaretraceError as exc:
            self.report.add(
                "checkpoints", "checkpoints", key, f"note does not verify under the log key: {exc}"
            )
            return
        if cp.size != size or cp.root_hash != computed:
            self.report.add(
                "checkpoints",
                "checkpoints",
                key,
                f"signed note is for size {cp.size}, root {cp.root_hash.hex()};"
                f" the events give root {computed.hex()}",
            )
        self.latest = size

    def _compare_root(self, what: str, root: bytes) -> None:
        if root != self.compact.root():
            self.report.add(
                "checkpoints",
                "log",
                what,
                f"root {root.hex()} for size {self.compact.size} but the events hash to"
                f" {self.compact.root().hex()}",
            )

    def finish(self) -> None:
        size = self.compact.size
        self.report.tree_size, self.report.root = size, self.compact.root().hex()
        while self.pending is not None:
            self.report.add(
                "checkpoints",
                "checkpoints",
                f"size {self.pending[0]}",
                f"commits to {self.pending[0]} events but the events table holds {size}:"
                " events were deleted",
            )
            self.pending = next(self.checkpoints, None)
        if size and self.latest != size:
            self.report.add(
                "checkpoints", "events", f"seq {self.latest or 0}..{size - 1}",
                f"no signed checkpoint covers the log's {size} events (latest valid one: size"
                f" {self.latest}); events were inserted outside the append path",
            )  # fmt: skip
        self._partial_tiles(size)

    def _partial_tiles(self, size: int) -> None:
        if not self.has_tiles:
            return
        reader = TileReader(self.directory, size)
        for level, row in enumerate(self.rows):
            if row:
                rel = tile_path(level, size >> (8 * (level + 1)), len(row))
                try:
                    ok = reader.read_tile(level, size >> (8 * (level + 1))) == b"".join(row)
                except RaretraceError as exc:
                    self.report.add("tiles", "tiles", rel, f"cannot be read: {exc}")
                    continue
                self.report.tiles += 1
                if not ok:
                    self.report.add("tiles", "tiles", rel, "differs from the events")
        for i, entry in enumerate(self.entries):
            leaf = size - len(self.entries) + i
            try:
                stored = reader.read_entry(leaf)
            except RaretraceError as exc:
                self.report.add(
                    "tiles",
                    "tiles",
                    entries_path(leaf >> 8, len(self.entries)),
                    f"cannot be read: {exc}",
                )
                return
            if stored != entry:
                self.report.add(
                    "tiles",
                    "tiles",
                    entries_path(leaf >> 8, len(self.entries)),
                    f"entry {i} (leaf {leaf}) differs from the event's body",
                )


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
        e = schema.events
        query = select(e.c.seq, e.c.id, e.c.type, e.c.time, e.c.actor, e.c.body).order_by(e.c.seq)
        rows = self.conn.execution_options(stream_results=True, yield_per=CHUNK).execute(query)
        pending: deque[tuple[Sequence[Any], list[Future[list[Verdict]]]]] = deque()
        for chunk in rows.partitions():
            pending.append((chunk, verifier.submit([r[5] for r in chunk])))
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
        self.log.add(body.encode("utf-8"))
        if verdict is not None:
            self.report.add(verdict[0], "events", key, verdict[1])
        try:
            event = parse_event(json.loads(body))
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
        self.replay.take(seq, effects)
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
        rows = (
            self.conn.execution_options(stream_results=True, yield_per=CHUNK)
            .execute(select(schema.lots).order_by(schema.lots.c.id))
            .mappings()
        )
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
            expected = {
                "name": record.name,
                "country": record.country,
                "seq": self.replay.record_seq[("participant", pid)],
                "body": json.dumps(participant_to_json(record), separators=(",", ":")),
            }
            self._compare_record(
                "participants", f"participant {pid!r}", participants.pop(pid, None), expected
            )
        facilities = {r.id: r for r in self.conn.execute(select(f))}
        for fid, fac in reg.facilities.items():
            expected = {
                "name": fac.name,
                "operator": fac.operator,
                "country": fac.country,
                "stage": fac.stage,
                "seq": self.replay.record_seq[("facility", fid)],
                "body": json.dumps(facility_to_json(fac), separators=(",", ":")),
            }
            self._compare_record(
                "facilities", f"facility {fid!r}", facilities.pop(fid, None), expected
            )
        for table, extra in (("participants", participants), ("facilities", facilities)):
            for rid in extra:
                self.report.add(
                    "tables",
                    table,
                    repr(rid),
                    "stored record that no registry event registers (inserted directly)",
                )

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
        for n, lot_id in enumerate(sorted(stored)):
            if n % 1000 == 999:
                history.lot_events.clear()  # bounded memory for --full
            self.report.lineage_lots += 1
            try:
                again = lineage.recompute_lot(history, lot_id, self.settings.tolerance)
                diffs = lineage.differences(lot_from_row(stored[lot_id]), again)
            except (RaretraceError, KeyError, StopIteration, TypeError, ValueError) as exc:
                diffs = [f"cannot be recomputed from its events: {exc!r}"]
            for diff in diffs:
                self.report.add(
                    "lineage", "lots", f"lot {lot_id!r}", f"lineage recomputation: {diff}"
                )


def _first_difference(a: bytes, b: bytes) -> int:
    """Offset of the first byte where ``a`` and ``b`` differ (the shorter length if none)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while hi - lo > 1:  # a[:lo] == b[:lo] and a[:hi] != b[:hi]; compare in C, not per byte
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if a[:mid] == b[:mid] else (lo, mid)
    return lo


def _same_json(a: object, b: object) -> bool:
    try:
        return isinstance(a, str) and isinstance(b, str) and json.loads(a) == json.loads(b)
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
) -> AuditReport:
    """Replay ``store`` from its events and report every difference with what is stored.

    ``vkey`` is the log's verifier key to trust (default: ``log.vkey`` in the log directory);
    ``lineage_sample`` lots (all with ``full``) are also recomputed through their lineage.
    """
    store.require_ready()
    settings = LedgerSettings.from_meta(store.meta())
    report = AuditReport()
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
