"""Which database may append to a log directory, and whether the two agree, before every write.

A log directory holds what one ledger has published under its log key. If a copy of the
ledger's database (``cp chain.db copy.db``, a restored backup, a PostgreSQL dump loaded into
another database) appended to the same directory, the public log would show two different
signed trees of one size under one key — a fork, the one thing a transparency log must never
do (RFC 9162 §8.3 calls it a split view; witnesses refuse to cosign past it). So every writer,
inside the writer lock (``append.writer_transaction``), first checks:

1. **Ownership.** ``<log dir>/ledger.json`` names the ledger (a random id, also kept in the
   database's ``meta``) and the one database that may append (a SQLite file's absolute path,
   a PostgreSQL URL without its password). A copy carries the ledger's id but sits elsewhere,
   so it is recognised before it writes anything. A SQLite file that was moved (its recorded
   path no longer exists) takes the directory over; ledgers made before the record existed
   write it on their next write or ``raretrace init``.
2. **Position.** The public ``checkpoint`` is one this database signed: for no more events
   than the database holds (else the directory is *ahead*) and with this database's root at
   its size (else it has *diverged*). A directory *behind* the database (a crash between
   commit and publish, lost tiles) is repaired by the write, as before.

``LedgerLog`` also compares the tiles' root with the database's when it positions its tile
writer, and ``raretrace audit`` reports all of it (``audit_log.py``). docs/log.md explains the
recovery: which database to write through, ``raretrace init --log-dir NEW`` to give a copy a
log of its own (``logfork.py``), ``raretrace init --log-dir SAME`` to let it replace the
original.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import URL, Connection, func, insert, make_url, select

from raretrace.domain.errors import ConfigError, RaretraceError
from raretrace.ledger.settings import LEDGER_ID, LedgerSettings
from raretrace.ledger.transparency import stored_root
from raretrace.log.checkpoint import Checkpoint, parse_checkpoint
from raretrace.log.files import write_public
from raretrace.log.merkle import EMPTY_ROOT
from raretrace.log.note import parse_note_unverified
from raretrace.store import schema
from raretrace.store.engine import database_url

OWNER_FILE = "ledger.json"
NEW_DIR = "NEW-DIR"  # the placeholder in the advice


@dataclass(frozen=True, slots=True)
class LogOwner:
    """The ledger a log directory belongs to, and the one database that may append to it."""

    ledger_id: str
    database: str

    def to_bytes(self) -> bytes:
        doc = {"ledger_id": self.ledger_id, "database": self.database}
        return (json.dumps(doc, indent=2) + "\n").encode("utf-8")


@dataclass(frozen=True, slots=True)
class Disagreement:
    """One way a log directory and a database disagree, with what to do (one line)."""

    kind: str  # "owner", "origin", "ahead" or "diverged"
    file: str  # the file in the log directory that shows it: ledger.json or checkpoint
    message: str


def new_ledger_id() -> str:
    """A fresh ledger id: 128 random bits, hex."""
    return secrets.token_hex(16)


def database_location(url: URL) -> str:
    """Where a database is: a SQLite file's absolute path, a PostgreSQL URL sans password."""
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        if name.startswith("file:"):  # a SQLite URI filename (https://sqlite.org/uri.html)
            name = unquote(name.removeprefix("file:"))
        return str(Path(name).expanduser().resolve())
    user = f"{url.username}@" if url.username else ""
    return f"postgresql://{user}{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def location_of(db: str) -> str:
    """:func:`database_location` of ``--db`` as given (a file path or a URL)."""
    if "://" not in db:
        return str(Path(db).expanduser().resolve())
    return database_location(make_url(database_url(db)))


def read_owner(directory: Path) -> LogOwner | None:
    """The directory's owner record, or None if it has none."""
    path = directory / OWNER_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return LogOwner(str(doc["ledger_id"]), str(doc["database"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(
            f"{path} is not a raretrace log owner record ({exc}); it names the database that"
            " may append to this log: restore it from a backup of the log directory"
        ) from None


def write_owner(directory: Path, owner: LogOwner) -> None:
    """Record ``owner`` in the log directory (a public file, like the rest of the log)."""
    write_public(directory / OWNER_FILE, owner.to_bytes())


def published_checkpoint(directory: Path) -> Checkpoint | None:
    """The public ``checkpoint`` file's tree head (signature not checked), None if absent."""
    path = directory / "checkpoint"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    try:
        return parse_checkpoint(parse_note_unverified(text).text)
    except RaretraceError as exc:
        raise ConfigError(
            f"{path} is not a checkpoint ({exc.message}); the log directory was changed"
            " outside raretrace: run `raretrace audit`"
        ) from None


def _own_log_advice(location: str) -> str:
    return (
        f"give this ledger a log of its own with `raretrace init --db {location}"
        f" --log-dir {NEW_DIR}`"
    )


def ownership_problem(
    owner: LogOwner, *, directory: Path, ledger_id: str | None, location: str
) -> Disagreement | None:
    """Why the database at ``location`` may not append to a directory ``owner`` holds."""
    if owner.ledger_id != ledger_id:
        return Disagreement(
            "owner",
            OWNER_FILE,
            f"the log directory {directory} belongs to another ledger (id {owner.ledger_id},"
            f" database {owner.database}), not to this one (id {ledger_id}, database"
            f" {location}); a ledger appends only to its own log: write through"
            f" {owner.database}, or {_own_log_advice(location)}",
        )
    if owner.database != location and not _moved(owner.database):
        return Disagreement(
            "owner",
            OWNER_FILE,
            f"the log directory {directory} belongs to the database {owner.database}; this"
            f" database ({location}) is a copy of that ledger, and appending would fork its"
            f" published log (two different signed trees under one key): write through"
            f" {owner.database}; to keep the copy as a ledger of its own, run `raretrace init"
            f" --db {location} --log-dir {NEW_DIR}`; if it replaces the original (moved or"
            f" restored), run `raretrace init --db {location} --log-dir {directory}`",
        )
    return None


def _moved(database: str) -> bool:
    """A SQLite file no longer at its recorded path was moved (or deleted): not a rival."""
    return database.startswith("/") and not Path(database).exists()


def position_problem(
    conn: Connection, *, directory: Path, origin: str, size: int, location: str
) -> Disagreement | None:
    """Why the directory's public checkpoint is not one this database (``size`` events) signed."""
    published = published_checkpoint(directory)
    if published is None:
        return None
    if published.origin != origin:
        return Disagreement(
            "origin",
            "checkpoint",
            f"the log directory {directory} publishes the log {published.origin!r}, but this"
            f" ledger's log is {origin!r}: it is another log's directory; write through the"
            f" database that owns it, or {_own_log_advice(location)}",
        )
    if published.size > size:
        return Disagreement(
            "ahead",
            "checkpoint",
            f"the log directory {directory} is ahead of this database: its checkpoint is for"
            f" {published.size:,} events (root {published.root_hash.hex()}), the database"
            f" holds {size:,} (root {stored_root(conn, size) or EMPTY_ROOT.hex()}): another"
            " copy of this ledger appended to it, or the database was restored from an older"
            " backup, and"
            " appending would sign a second, different tree: write through the database that"
            f" holds all {published.size:,} events (restore the newest backup), or"
            f" {_own_log_advice(location)}",
        )
    ours = stored_root(conn, published.size)
    if ours != published.root_hash.hex():
        signed = f"root {ours}" if ours is not None else "no checkpoint of that size"
        return Disagreement(
            "diverged",
            "checkpoint",
            f"the log directory {directory} has diverged from this database: its checkpoint"
            f" for size {published.size:,} has root {published.root_hash.hex()}, this"
            f" database signed {signed}; another database wrote there: find it with"
            f" `raretrace audit`, write through the one that owns the directory, or"
            f" {_own_log_advice(location)}",
        )
    return None


def directory_problems(conn: Connection, settings: LedgerSettings) -> list[Disagreement]:
    """Every reason this database may not append to its log directory now (read-only)."""
    directory, location = settings.log.directory, database_location(conn.engine.url)
    found = []
    owner = read_owner(directory)
    if owner is not None:
        problem = ownership_problem(
            owner, directory=directory, ledger_id=settings.ledger_id, location=location
        )
        if problem is not None:
            found.append(problem)
    size = event_count(conn)
    problem = position_problem(
        conn, directory=directory, origin=settings.log.origin, size=size, location=location
    )
    if problem is not None:
        found.append(problem)
    return found


def check_directory(conn: Connection, settings: LedgerSettings) -> None:
    """Raise ConfigError (one line, what to do) unless this database may append to its log."""
    problems = directory_problems(conn, settings)
    if problems:
        raise ConfigError(problems[0].message)


@dataclass(frozen=True, slots=True)
class Binding:
    """A write's go-ahead: the owner record to write once the transaction commits, if any."""

    directory: Path
    record: LogOwner | None

    def settle(self) -> None:
        """After commit: write the owner record (missing, or the database moved)."""
        if self.record is not None and self.directory.is_dir():
            write_owner(self.directory, self.record)


def bind_for_write(conn: Connection, settings: LedgerSettings) -> Binding:
    """Check the log directory for a write in ``conn`` (under the writer lock).

    A ledger made before ledger ids gets its id here, committed with the write; the owner
    record is written after the commit (``Binding.settle``), so a record never names an id
    that is not in the database.
    """
    ledger_id = settings.ledger_id
    if ledger_id is None:
        ledger_id = new_ledger_id()
        conn.execute(insert(schema.meta).values(key=LEDGER_ID, value=ledger_id))
    bound = LedgerSettings(
        tolerance=settings.tolerance,
        require_signatures=settings.require_signatures,
        log=settings.log,
        registry_keys=settings.registry_keys,
        ledger_id=ledger_id,
    )
    check_directory(conn, bound)
    location = database_location(conn.engine.url)
    owner = read_owner(settings.log.directory)
    mine = LogOwner(ledger_id, location)
    return Binding(settings.log.directory, None if owner == mine else mine)


def event_count(conn: Connection) -> int:
    """How many events the database holds (as ``Store.size``, on a bare connection)."""
    value = conn.execute(select(func.max(schema.events.c.seq))).scalar()
    return 0 if value is None else int(value) + 1
