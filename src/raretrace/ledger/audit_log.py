"""``raretrace audit``: the Merkle log — the root, every stored checkpoint, the tiles."""

from __future__ import annotations

from sqlalchemy import Connection, select

from raretrace.domain.errors import RaretraceError
from raretrace.ledger.audit_report import AuditReport, _first_difference, _stream
from raretrace.ledger.logdir import (
    database_location,
    ownership_problem,
    position_problem,
    read_owner,
)
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.transparency import VKEY_FILE
from raretrace.log.checkpoint import verify_checkpoint
from raretrace.log.merkle import CompactRange, leaf_hash
from raretrace.log.note import Ed25519Verifier
from raretrace.log.tiles import TileReader, encode_entry_bundle, entries_path, tile_path
from raretrace.store import schema

# --- the Merkle log: root, checkpoints, tiles ---------------------------------------------------


class _LogCheck:
    """Hashes leaves as they stream by and checks checkpoints and tiles against them."""

    def __init__(
        self, conn: Connection, settings: LedgerSettings, vkey: str | None, report: AuditReport
    ) -> None:
        self.report, self.conn, self.settings = report, conn, settings
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
                f" {self.compact.root().hex()}: the log directory has diverged from this"
                " database (another database wrote there, or the events were changed); no"
                " database may append to it until the one that published it is found",
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
            self.report.add("log-directory", "log", str(self.directory), exc.message)
            return
        if owner is not None:
            problem = ownership_problem(
                owner, directory=self.directory, ledger_id=self.settings.ledger_id,
                location=location,
            )  # fmt: skip
            if problem is not None:
                self.report.add("log-directory", "log", problem.file, problem.message)
        if ahead is not None and ahead.kind in ("ahead", "origin"):
            self.report.add("log-directory", "log", ahead.file, ahead.message)

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
        self._directory(size)
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
