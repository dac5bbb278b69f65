"""``raretrace audit``: the Merkle log — the root, every stored checkpoint, the tiles, each
leaf's salted commitment, and the archived logs a ledger moved away from.

Each event's log entry is recomputed from the stored body and salt (``SHA-256(salt || body)``,
``raretrace.log.commitment``; the body itself for a log made before commitments) and hashed
into an RFC 9162 tree that every checkpoint and tile is compared with. Where a published entry
differs from the recomputed one while agreeing with its own tile, the published log is
intact and the stored event or its salt is not: that is named under ``leaf-commitment``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from raretrace.domain.errors import RaretraceError
from raretrace.ledger.audit_report import AuditReport, _first_difference, _stream
from raretrace.ledger.logdir import (
    database_location,
    ownership_problem,
    position_problem,
    read_owner,
)
from raretrace.ledger.logmigrate import CHECKPOINTS_FILE, ArchivedLog, archives_of
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.transparency import VKEY_FILE
from raretrace.log.checkpoint import verify_checkpoint
from raretrace.log.commitment import RULE as COMMITMENT
from raretrace.log.commitment import SALT_SIZE, log_entry
from raretrace.log.merkle import HASH_SIZE, CompactRange, leaf_hash
from raretrace.log.note import Ed25519Verifier
from raretrace.log.tiles import (
    TileReader,
    decode_entry_bundle,
    encode_entry_bundle,
    entries_path,
    tile_path,
)
from raretrace.store import schema

Checkpoints = Iterator[tuple[int, str, str]]  # (size, root hex, note), by size


# --- one tree: its leaves, checkpoints and tiles ------------------------------------------------


class _TreeCheck:
    """Hashes entries as they stream by and checks checkpoints and tiles against them."""

    def __init__(
        self, *, directory: Path, origin: str, verifier: Ed25519Verifier | None,
        checkpoints: Checkpoints, report: AuditReport,
    ) -> None:  # fmt: skip
        self.report, self.directory, self.origin = report, directory, origin
        self.verifier, self.checkpoints = verifier, checkpoints
        self.compact = CompactRange()
        self.rows: list[list[bytes]] = [[]]  # per tile level, the hashes of its current tile
        self.entries: list[bytes] = []
        self.keys: list[str] = []  # the events of ``entries``, to name them
        self.has_tiles = directory.is_dir()
        self.pending = next(checkpoints, None)
        self.latest: int | None = None
        self.published = self._published()

    def note(self, check: str, table: str, key: str, message: str) -> None:
        """One finding (the archive check files them under its own name)."""
        self.report.add(check, table, key, message)

    def _published(self) -> tuple[int, bytes] | None:
        """The public ``checkpoint`` file's (size, root), if it verifies."""
        path = self.directory / "checkpoint"
        if self.verifier is None or not path.exists():
            return None
        try:
            cp = verify_checkpoint(path.read_bytes(), self.verifier, origin=self.origin)
        except RaretraceError as exc:
            self.note("checkpoints", "log", "checkpoint file", f"does not verify: {exc}")
            return None
        return cp.size, cp.root_hash

    def add_entry(self, entry: bytes, key: str) -> None:
        """Append one leaf; check what it completes."""
        self.entries.append(entry)
        self.keys.append(key)
        for (level, index), h in self.compact.append(leaf_hash(entry)):
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
        rel = entries_path(index)
        expected = encode_entry_bundle(self.entries)
        if not self._compare_file(rel, expected, 0):
            self._name_entries(rel, index, 256)
        self.entries, self.keys = [], []

    def _read(self, rel: str) -> bytes | None:
        try:
            return (self.directory / rel).read_bytes()
        except OSError:
            return None

    def _compare_file(self, rel: str, expected: bytes, hash_size: int) -> bool:
        """Whether the published file holds ``expected`` (True when there are no tiles)."""
        if not self.has_tiles:
            return True
        try:
            data = (self.directory / rel).read_bytes()
        except OSError as exc:
            self.note(
                "tiles",
                "tiles",
                rel,
                f"cannot be read ({exc.strerror}); rebuild it from the events",
            )
            return True
        if data == expected:
            return True
        at = _first_difference(data, expected)
        where = f"hash {at // hash_size}" if hash_size else f"byte {at}"
        self.note(
            "tiles", "tiles", rel,
            f"differs from the events at {where} ({len(data)} bytes on disk,"
            f" {len(expected)} recomputed)",
        )  # fmt: skip
        return False

    def _name_entries(self, rel: str, index: int, width: int) -> None:
        """An entry bundle differs: name each event whose stored body and salt do not give the
        published entry, where that entry agrees with its published tile hash (so the
        published log is intact at that leaf and the event row was changed)."""
        data, hashes = self._read(rel), self._read(tile_path(0, index, width))
        try:
            published = decode_entry_bundle(data or b"")
        except RaretraceError:
            return
        if hashes is None or len(published) != len(self.entries) or len(hashes) != 32 * width:
            return
        for i, (theirs, ours) in enumerate(zip(published, self.entries, strict=True)):
            if theirs != ours and hashes[32 * i : 32 * i + 32] == leaf_hash(theirs):
                self.note(COMMITMENT, "events", self.keys[i], _unopened(index * 256 + i, theirs))

    def _checkpoint(self, size: int, root: str, note: str) -> None:
        self.report.checkpoints += 1
        key = f"size {size}"
        computed = self.compact.root()
        if root != computed.hex():
            self.note(
                "checkpoints", "checkpoints", key,
                f"root {root} but the first {size} events hash to {computed.hex()}",
            )  # fmt: skip
        if self.verifier is None:
            return
        try:
            cp = verify_checkpoint(note, self.verifier, origin=self.origin)
        except RaretraceError as exc:
            self.note(
                "checkpoints", "checkpoints", key, f"note does not verify under the log key: {exc}"
            )
            return
        if cp.size != size or cp.root_hash != computed:
            self.note(
                "checkpoints", "checkpoints", key,
                f"signed note is for size {cp.size}, root {cp.root_hash.hex()};"
                f" the events give root {computed.hex()}",
            )  # fmt: skip
        self.latest = size

    def _compare_root(self, what: str, root: bytes) -> None:
        if root != self.compact.root():
            self.note(
                "checkpoints", "log", what,
                f"root {root.hex()} for size {self.compact.size} but the events hash to"
                f" {self.compact.root().hex()}: the log directory has diverged from this"
                " database (another database wrote there, or the events were changed); no"
                " database may append to it until the one that published it is found",
            )  # fmt: skip

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
                    self.note("tiles", "tiles", rel, f"cannot be read: {exc}")
                    continue
                self.report.tiles += 1
                if not ok:
                    self.note("tiles", "tiles", rel, "differs from the events")
        rel = entries_path(size >> 8, len(self.entries))
        for i, entry in enumerate(self.entries):
            leaf = size - len(self.entries) + i
            try:
                stored = reader.read_entry(leaf)
            except RaretraceError as exc:
                self.note("tiles", "tiles", rel, f"cannot be read: {exc}")
                return
            if stored != entry:
                self.note(
                    "tiles", "tiles", rel, f"entry {i} (leaf {leaf}) differs from the event's"
                )
        if self.entries and self._read(rel) != encode_entry_bundle(self.entries):
            self._name_entries(rel, size >> 8, len(self.entries))

    def _uncovered(self, size: int) -> None:
        while self.pending is not None:
            self.note(
                "checkpoints", "checkpoints", f"size {self.pending[0]}",
                f"commits to {self.pending[0]} events but the events table holds {size}:"
                " events were deleted",
            )  # fmt: skip
            self.pending = next(self.checkpoints, None)


def _unopened(leaf: int, published: bytes) -> str:
    shown = published.hex()[:16] + "…" if len(published) == HASH_SIZE else f"{len(published)} bytes"
    return (
        f"the stored event and its salt do not give the published log's leaf {leaf} ({shown},"
        " which agrees with its tile): the event's body or salt was changed after it was"
        " logged; the published entry, under a checkpoint witnesses cosigned, is the record"
    )


# --- the ledger's log ----------------------------------------------------------------------------


class _LogCheck(_TreeCheck):
    """The ledger's own log: its stored checkpoints, tiles and directory, and its archives."""

    def __init__(
        self, conn: Connection, settings: LedgerSettings, vkey: str | None, report: AuditReport
    ) -> None:
        self.conn, self.settings = conn, settings
        directory = settings.log.directory
        if not directory.is_dir():
            report.add("tiles", "log", str(directory), "the log directory is missing")
        table = schema.checkpoints
        query = select(table.c.size, table.c.root, table.c.note).order_by(table.c.size)
        super().__init__(
            directory=directory, origin=settings.log.origin,
            verifier=_verifier(vkey, directory, report), checkpoints=_stream(conn, query),
            report=report,
        )  # fmt: skip
        meta = {k: v for k, v in conn.execute(select(schema.meta.c.key, schema.meta.c.value))}
        self.archives = [_ArchiveCheck(a, directory, report) for a in _archives(meta, report)]

    def add(self, body: bytes, salt: bytes | None = None, key: str = "") -> None:
        """Append the event's entry, recomputed from its stored body and salt."""
        index = self.compact.size
        for archive in self.archives:
            archive.add(index, body, key)
        if self.settings.clear_leaves != (salt is None):
            self.note(COMMITMENT, "events", key or f"seq {index}", self._salt_problem(salt))
        if salt is not None and len(salt) != SALT_SIZE:
            self.note(COMMITMENT, "events", key, f"its salt is {len(salt)} bytes, not {SALT_SIZE}")
            salt = salt.ljust(SALT_SIZE, b"\0")[:SALT_SIZE]  # hash on: the tree still checks
        self.add_entry(log_entry(body, salt), key)

    def _salt_problem(self, salt: bytes | None) -> str:
        if salt is None:
            return (
                "has no salt, so its log entry is the event in clear, in a log of salted"
                " commitments: appended by a raretrace older than 0008, or its salt was deleted"
            )
        return (
            "has a salt, but this ledger's log holds the events in clear (made before"
            " commitments, not moved: `raretrace log migrate`); the salt was set directly"
        )

    def _directory(self, size: int) -> None:
        """Whether this database may append to its log directory (``logdir.py``): owned by
        it, not ahead of it, the same log. A directory behind it is repaired by the next
        write, and a diverged one shows in ``_compare_root``."""
        if not self.has_tiles:
            return
        location = database_location(self.conn.engine.url)
        try:
            owner = read_owner(self.directory)
            ahead = position_problem(
                self.conn, directory=self.directory, origin=self.origin, size=size,
                location=location,
            )  # fmt: skip
        except RaretraceError as exc:
            self.note("log-directory", "log", str(self.directory), exc.message)
            return
        if owner is not None:
            problem = ownership_problem(
                owner, directory=self.directory, ledger_id=self.settings.ledger_id,
                location=location,
            )  # fmt: skip
            if problem is not None:
                self.note("log-directory", "log", problem.file, problem.message)
        if ahead is not None and ahead.kind in ("ahead", "origin"):
            self.note("log-directory", "log", ahead.file, ahead.message)

    def finish(self) -> None:
        size = self.compact.size
        self.report.tree_size, self.report.root = size, self.compact.root().hex()
        self._uncovered(size)
        self._directory(size)
        if size and self.latest != size:
            self.note(
                "checkpoints", "events", f"seq {self.latest or 0}..{size - 1}",
                f"no signed checkpoint covers the log's {size} events (latest valid one: size"
                f" {self.latest}); events were inserted outside the append path",
            )  # fmt: skip
        self._partial_tiles(size)
        for archive in self.archives:
            archive.finish()


def _verifier(vkey: str | None, directory: Path, report: AuditReport) -> Ed25519Verifier | None:
    try:
        text = vkey or (directory / VKEY_FILE).read_text(encoding="utf-8")
        return Ed25519Verifier.from_vkey(text.strip())
    except (OSError, RaretraceError) as exc:
        report.add("checkpoints", "log", VKEY_FILE, f"no usable log verifier key: {exc}")
        return None


def _archives(meta: dict[str, str], report: AuditReport) -> list[ArchivedLog]:
    try:
        return archives_of(meta)
    except RaretraceError as exc:
        report.add("log-archive", "meta", "log_archives", exc.message)
        return []


# --- an archived log ---------------------------------------------------------------------------

ARCHIVE = "log-archive"


class _ArchiveCheck(_TreeCheck):
    """A log the ledger moved away from (``raretrace log migrate``): its entries are the first
    ``size`` events in clear; its checkpoints, tiles and final checkpoint must agree with them
    under the key recorded when it was archived."""

    def __init__(self, archived: ArchivedLog, log_dir: Path, report: AuditReport) -> None:
        self.archived = archived
        directory = archived.path(log_dir)
        verifier: Ed25519Verifier | None = None
        try:
            verifier = Ed25519Verifier.from_vkey(archived.vkey)
        except RaretraceError as exc:
            report.add(ARCHIVE, archived.directory, "vkey", f"not a usable verifier key: {exc}")
        super().__init__(
            directory=directory, origin=archived.origin, verifier=verifier,
            checkpoints=self._stored(directory, report), report=report,
        )  # fmt: skip
        if not self.has_tiles:
            self.note("tiles", "log", "", "the archived log's folder is missing")
        elif (directory / VKEY_FILE).exists() and self._vkey_file(directory) != archived.vkey:
            self.note("checkpoints", "log", VKEY_FILE, "differs from the key recorded in meta")

    @staticmethod
    def _vkey_file(directory: Path) -> str:
        return (directory / VKEY_FILE).read_text(encoding="utf-8").strip()

    def _stored(self, directory: Path, report: AuditReport) -> Checkpoints:
        """The archived log's checkpoints (``checkpoints.jsonl``), by size."""
        try:
            lines = (directory / CHECKPOINTS_FILE).read_text(encoding="utf-8").splitlines()
            rows: list[dict[str, Any]] = [json.loads(line) for line in lines if line]
            found = sorted((int(r["size"]), str(r["root"]), str(r["note"])) for r in rows)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            report.add(ARCHIVE, self.archived.directory, CHECKPOINTS_FILE, f"unreadable: {exc}")
            found = []
        return iter(found)

    def note(self, check: str, table: str, key: str, message: str) -> None:
        where = f"{self.archived.directory}/{key}" if table in ("tiles", "log") else key
        owner = table if table == "events" else self.archived.directory
        self.report.add(ARCHIVE, owner, where, f"{check}: {message}")

    def add(self, index: int, body: bytes, key: str) -> None:
        if index < self.archived.size:
            self.add_entry(body, key)

    def finish(self) -> None:
        size, root = self.compact.size, self.compact.root().hex()
        self._uncovered(size)
        if (size, root) != (self.archived.size, self.archived.root):
            self.note(
                "checkpoints", "log", "archive.json",
                f"the archived log ends at size {self.archived.size:,}, root"
                f" {self.archived.root}; the ledger's first {size:,} events in clear hash to"
                f" {root}: events were deleted or changed",
            )  # fmt: skip
        if self.latest != size:
            self.note(
                "checkpoints", "log", CHECKPOINTS_FILE,
                f"no archived checkpoint that verifies covers its {size:,} events"
                f" (latest valid one: size {self.latest})",
            )  # fmt: skip
        if self.published is None or self.published[0] != size:
            self.note("checkpoints", "log", "checkpoint", "no final checkpoint of the archived log")
        self._partial_tiles(size)
