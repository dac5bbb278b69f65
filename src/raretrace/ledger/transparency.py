"""The ledger's Merkle log: tiles on disk, the log's signing key, signed checkpoints.

Every accepted event is a leaf whose entry is a salted commitment to it,
``SHA-256(salt || RFC 8785 canonical JSON)`` (``raretrace.log.commitment``; the salt is kept
beside the event in the store), so the published tiles reveal no event content. A ledger made
before commitments (``LedgerSettings.clear_leaves``) has events in clear as its entries: it
is read and proven as it was published, and moved to a new log by ``logmigrate.py``.
Within each batch's database
transaction, the batch's leaves are appended to the C2SP tlog-tiles directory and a
checkpoint for the new size is signed and stored; the checkpoint file that the public reads
(``<log dir>/checkpoint``) is replaced only after the transaction commits, so no signed
checkpoint is ever published for events that were not durably accepted. If tiles run ahead
of the database (a crash between tile write and commit), they are rolled back to the
database's size when the log is next opened; if they lag, they are rebuilt from the events.
Tiles whose root at the database's size is not the database's are never built on: the write
is refused (see ``logdir.py`` for the checks every write makes on the directory first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, func, insert, select

from raretrace.domain.errors import ConfigError, RaretraceError
from raretrace.log.checkpoint import Checkpoint, sign_checkpoint
from raretrace.log.commitment import log_entry
from raretrace.log.files import write_public, write_secret
from raretrace.log.note import Ed25519Signer, generate_key
from raretrace.log.tiles import TileReader, TileWriter, publish_checkpoint, tiles_on_disk
from raretrace.store import schema

KEY_FILE = "log.key"
VKEY_FILE = "log.vkey"
#: The ``meta`` key saying what the log's entries are, and its value for salted commitments
#: (set at ``init`` and by ``raretrace log migrate``; absent: the events in clear).
LEAVES_KEY = "log_leaves"
COMMITMENT_LEAVES = "commitment"
#: The folder in the log directory where ``raretrace log migrate`` builds the new log; while
#: it exists, the move is unfinished (``logmigrate.py``).
MIGRATION_STAGING = ".migrating"


@dataclass(frozen=True, slots=True)
class LogSettings:
    """Where the log lives and what it is called (fixed at ``raretrace init``)."""

    directory: Path
    origin: str


def create_log(settings: LogSettings) -> str:
    """Make the log directory and its signing key; returns the verifier key (vkey)."""
    settings.directory.mkdir(parents=True, exist_ok=True)
    key_path = settings.directory / KEY_FILE
    if key_path.exists():
        return (settings.directory / VKEY_FILE).read_text().strip()
    skey, vkey = generate_key(settings.origin)
    write_secret(key_path, skey + "\n")
    write_public(settings.directory / VKEY_FILE, (vkey + "\n").encode())
    return vkey


class LedgerLog:
    """Appends leaves and signs checkpoints; one writer at a time (under the writer lock)."""

    def __init__(self, settings: LogSettings) -> None:
        self.settings = settings
        try:
            skey = (settings.directory / KEY_FILE).read_text().strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the log key {settings.directory / KEY_FILE}: {exc.strerror};"
                " the log directory must be the one `raretrace init` created"
            ) from None
        self._signer = Ed25519Signer.from_skey(skey)
        self._tiles: TileWriter | None = None

    @property
    def vkey(self) -> str:
        return self._signer.verifier().vkey

    def _writer_at(self, conn: Connection, size: int) -> TileWriter:
        """A tile writer positioned exactly at ``size`` leaves (the database's size)."""
        tiles = self._tiles
        if tiles is None or tiles.size != size:
            directory = self.settings.directory
            on_disk = tiles_on_disk(directory)
            if on_disk > size:
                # Check before the writer rolls the extra tiles back: divergent tiles are
                # evidence to keep, not leftovers of a batch that never committed.
                self._check_root(conn, size, _tiles_root(directory, size))
            tiles = TileWriter(directory, size=min(size, on_disk))
            if tiles.size < size:
                tiles.append(_stored_leaves(conn, tiles.size, size))
            self._check_root(conn, size, tiles.root())
            self._tiles = tiles
        return tiles

    def check_tiles(self, conn: Connection, size: int) -> None:
        """Raise ConfigError if the tiles hold ``size`` leaves under another root (read-only)."""
        if tiles_on_disk(self.settings.directory) >= size:
            self._check_root(conn, size, _tiles_root(self.settings.directory, size))

    def _check_root(self, conn: Connection, size: int, root: bytes | None) -> None:
        ours = stored_root(conn, size)
        if root is None or ours is None or root.hex() == ours:
            return
        raise ConfigError(
            f"the tiles in {self.settings.directory} do not match this database: at size"
            f" {size:,} they give root {root.hex()}, the database's checkpoint {ours}; if only"
            f" the tiles were changed, delete {self.settings.directory / 'tile'} and write again"
            " to rebuild them from the events; else find out what changed with `raretrace audit`"
        )

    def append(self, conn: Connection, *, start: int, leaves: list[bytes]) -> str:
        """Append a batch's leaves (log positions ``start``…) and store a signed checkpoint."""
        tiles = self._writer_at(conn, start)
        tiles.append(leaves)
        root = tiles.flush()
        note = sign_checkpoint(Checkpoint(self.settings.origin, tiles.size, root), self._signer)
        conn.execute(
            insert(schema.checkpoints).values(
                size=tiles.size, root=root.hex(), note=note,
                time=datetime.now(UTC).isoformat(timespec="seconds"),
            )
        )  # fmt: skip
        return note

    def forget_position(self) -> None:
        """After a failed transaction: re-derive the tile position from disk next time."""
        self._tiles = None

    def publish(self, note: str) -> None:
        """Make ``note`` the public ``checkpoint`` file (call under the writer lock)."""
        publish_checkpoint(self.settings.directory, note)

    def reader(self, size: int) -> TileReader:
        return TileReader(self.settings.directory, size)


def _stored_leaves(conn: Connection, start: int, end: int) -> Iterator[bytes]:
    """The log entries of events ``start``…``end - 1``, each recomputed from the stored body
    and salt, streamed (a rebuild can cover the whole log)."""
    events = schema.events
    query = (
        select(events.c.body, events.c.salt)
        .where(events.c.seq >= start, events.c.seq < end)
        .order_by(events.c.seq)
    )
    # Options on the statement, not the connection: the batch's INSERTs follow on it.
    rows = conn.execute(query.execution_options(stream_results=True, yield_per=5000))
    for body, salt in rows:
        yield log_entry(body.encode("utf-8"), salt)


def _tiles_root(directory: Path, size: int) -> bytes | None:
    """The root of the tiles' tree of ``size`` leaves, None if the files cannot give it."""
    try:
        return TileReader(directory, size).root()
    except RaretraceError:
        return None  # an interrupted cascade: the writer repairs it, then it is checked


def stored_root(conn: Connection, size: int) -> str | None:
    """The root (hex) of the checkpoint this database signed for ``size``, if any."""
    table = schema.checkpoints
    root: str | None = conn.execute(select(table.c.root).where(table.c.size == size)).scalar()
    return root


def latest_checkpoint(conn: Connection) -> str | None:
    """The newest stored checkpoint note (with any cosignatures), or None for an empty log."""
    size = conn.execute(select(func.max(schema.checkpoints.c.size))).scalar()
    if size is None:
        return None
    note: str = conn.execute(
        select(schema.checkpoints.c.note).where(schema.checkpoints.c.size == size)
    ).scalar_one()
    return note
