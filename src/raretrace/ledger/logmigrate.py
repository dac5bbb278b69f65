"""``raretrace log migrate``: move a ledger whose log publishes events in clear to a new log of
salted commitments, archiving the old log where it stays verifiable.

A log never changes its leaves (its checkpoints, witnesses' cosignatures and every proof
handed out commit to them), so a ledger made before commitments cannot re-hash its log: it
starts a new one. What happens, in order:

1. Under the writer lock, in one database transaction: every event gets a fresh 32-byte salt;
   the old log's stored checkpoints are written to a staging folder (``<log dir>/.migrating``)
   with a description of the old log; a new log key is made there for the new origin
   (default: the old origin + ``/v2``); the new log's tiles are built there from the salted
   commitments and its first checkpoint is signed and stored, replacing the old log's
   checkpoints in the database; ``meta`` gets the new origin, ``log_leaves = commitment`` and
   the archived log's record (``log_archives``). Then the transaction commits.
2. The old log's public files and key (``checkpoint``, ``tile/``, ``log.vkey``, ``log.key``)
   move to ``<log dir>/archive/1/`` beside its stored checkpoints (``checkpoints.jsonl``) and
   its description (``archive.json``); the new log's files move into place and its checkpoint
   is published. Every step is a rename, and re-running the command finishes an interrupted
   move (a crash before the commit leaves the ledger as it was and the staging folder is
   discarded on the next run).

Witnesses start on the new log (a new origin: their state holds nothing for it, so the first
cosignature trusts it on first use). ``raretrace audit`` checks the archive against the events
(docs/log.md, "Moving a clear-text log to commitments").
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from raretrace.domain.errors import ConfigError
from raretrace.ledger.append import writer_transaction
from raretrace.ledger.keyfiles import checked_id
from raretrace.ledger.logdir import event_count
from raretrace.ledger.settings import LedgerSettings
from raretrace.ledger.transparency import (
    COMMITMENT_LEAVES,
    KEY_FILE,
    LEAVES_KEY,
    MIGRATION_STAGING,
    VKEY_FILE,
    LedgerLog,
    LogSettings,
    create_log,
    latest_checkpoint,
)
from raretrace.log.checkpoint import parse_checkpoint
from raretrace.log.commitment import new_salt
from raretrace.log.files import write_public
from raretrace.log.note import is_valid_key_name, parse_note_unverified
from raretrace.store import schema
from raretrace.store.bulk import executemany
from raretrace.store.store import Store

__all__ = [
    "ARCHIVES_KEY",
    "ArchivedLog",
    "LogMigration",
    "archives_of",
    "interrupted",
    "migrate_log",
]

#: The ``meta`` key listing the archived logs (JSON, a list of ``ArchivedLog``).
ARCHIVES_KEY = "log_archives"
ARCHIVE_DIR = "archive"
STAGING_DIR = MIGRATION_STAGING
CHECKPOINTS_FILE = "checkpoints.jsonl"
ARCHIVE_FILE = "archive.json"
#: What moves from the log directory into the archive, and from staging into its place.
_LOG_FILES = ("checkpoint", "tile", VKEY_FILE, KEY_FILE)
_SALT_UPDATE = (
    update(schema.events)
    .where(schema.events.c.seq == bindparam("b_seq"))
    .values(salt=bindparam("salt"))
)
_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class ArchivedLog:
    """A log the ledger left for a new one: where its files are and what it committed to."""

    origin: str
    size: int
    root: str  # hex, the root of its last checkpoint
    vkey: str
    directory: str  # relative to the log directory, e.g. "archive/1"
    leaves: str  # what its entries are: "event" (the events in clear)
    successor: str  # the origin of the log that replaced it
    time: str

    def path(self, log_dir: Path) -> Path:
        return log_dir / self.directory


def archives_of(meta: Mapping[str, str]) -> list[ArchivedLog]:
    """The archived logs a ledger's ``meta`` lists (none for most ledgers)."""
    text = meta.get(ARCHIVES_KEY)
    if not text:
        return []
    try:
        return [ArchivedLog(**item) for item in json.loads(text)]
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"the ledger's setting {ARCHIVES_KEY!r} is not a list of archived logs ({exc});"
            " run `raretrace audit`"
        ) from None


def interrupted(directory: Path) -> bool:
    """Whether a ``raretrace log migrate`` of this log directory has not finished."""
    return (directory / STAGING_DIR).exists()


@dataclass(frozen=True, slots=True)
class LogMigration:
    """What ``raretrace log migrate`` did."""

    done: bool  # False: nothing to do (the log already holds commitments)
    origin: str  # the ledger's log origin now
    size: int  # events in the new log
    archived: ArchivedLog | None  # the old log, if there was one with leaves
    vkey: str  # the log's verifier key now
    resumed: bool = False  # an interrupted migration was finished


def migrate_log(store: Store, *, origin: str | None = None) -> LogMigration:
    """Move the ledger's clear-text log to a new log of salted commitments (module doc)."""
    store.require_ready()
    settings = LedgerSettings.from_meta(store.meta())
    directory = settings.log.directory
    if origin is not None:
        _new_origin(settings.log.origin, origin)  # a bad one is refused whatever the state
    if not settings.clear_leaves:
        if origin is not None:
            raise ConfigError(
                f"the log {settings.log.origin} already holds salted commitments: --log-origin"
                " names the new log when a log of events in clear moves, and there is none"
            )
        resumed = interrupted(directory)
        if resumed:
            _finish(store, directory)
        archives = archives_of(store.meta())
        return LogMigration(
            done=False, origin=settings.log.origin, size=store.size(), resumed=resumed,
            archived=archives[-1] if archives else None, vkey=LedgerLog(settings.log).vkey,
        )  # fmt: skip
    new_origin = _new_origin(settings.log.origin, origin)
    staging = directory / STAGING_DIR
    with writer_transaction(store) as conn:
        settings = LedgerSettings.from_meta(store.meta(conn))
        if not settings.clear_leaves:  # another process migrated meanwhile
            raise ConfigError("the log was moved to commitments meanwhile; run the command again")
        if staging.exists():  # an attempt that never committed
            shutil.rmtree(staging)
        size = event_count(conn)
        archived = _stage(conn, settings, staging, new_origin, size) if size else None
        _switch_meta(conn, new_origin if size else settings.log.origin, archived)
    if archived is not None:
        _finish(store, directory)
    fresh = LedgerSettings.from_meta(store.meta())
    return LogMigration(True, fresh.log.origin, size, archived, LedgerLog(fresh.log).vkey)


def _new_origin(old: str, wanted: str | None) -> str:
    origin = wanted or f"{old}/v2"
    checked_id(origin, "--log-origin")
    if not is_valid_key_name(origin):
        raise ConfigError(f"--log-origin {origin!r} cannot name a log key (no spaces or '+')")
    if origin == old:
        raise ConfigError(
            f"the new log needs an origin of its own, not the old log's {old!r}: two logs under"
            " one name would be a fork to witnesses; pass another --log-origin"
        )
    return origin


def _stage(
    conn: Connection, settings: LedgerSettings, staging: Path, origin: str, size: int
) -> ArchivedLog:
    """Salt the events, build the new log in ``staging``, keep the old log's checkpoints."""
    old = parse_checkpoint(parse_note_unverified(_require_checkpoint(conn, size)).text)
    archived = ArchivedLog(
        origin=settings.log.origin, size=size, root=old.root_hash.hex(),
        vkey=LedgerLog(settings.log).vkey, directory=_free_archive(settings.log.directory),
        leaves="event", successor=origin, time=datetime.now(UTC).isoformat(timespec="seconds"),
    )  # fmt: skip
    (staging / "new").mkdir(parents=True)
    lines = [json.dumps(row, sort_keys=True) + "\n" for row in _checkpoint_rows(conn)]
    write_public(staging / CHECKPOINTS_FILE, "".join(lines).encode("utf-8"))
    doc = json.dumps(asdict(archived), indent=2, sort_keys=True) + "\n"
    write_public(staging / ARCHIVE_FILE, doc.encode("utf-8"))
    for chunk in _seq_chunks(size):
        executemany(conn, _SALT_UPDATE, [{"b_seq": seq, "salt": new_salt()} for seq in chunk])
    conn.execute(delete(schema.checkpoints))
    new_log = LogSettings(staging / "new", origin)
    create_log(new_log)
    log = LedgerLog(new_log)
    log.publish(log.append(conn, start=size, leaves=[]))  # rebuilt from the salted events
    return archived


def _require_checkpoint(conn: Connection, size: int) -> str:
    note = latest_checkpoint(conn)
    if note is None or parse_checkpoint(parse_note_unverified(note).text).size != size:
        raise ConfigError(
            f"no stored checkpoint covers the ledger's {size:,} events, so the old log cannot"
            " be archived as complete; run `raretrace audit` and settle that first"
        )
    return note


def _free_archive(directory: Path) -> str:
    n = 1
    while (directory / ARCHIVE_DIR / str(n)).exists():
        n += 1
    return f"{ARCHIVE_DIR}/{n}"


def _checkpoint_rows(conn: Connection) -> Iterator[dict[str, Any]]:
    table = schema.checkpoints
    query = select(table.c.size, table.c.root, table.c.note, table.c.time).order_by(table.c.size)
    for size, root, note, time in conn.execute(query):
        yield {"size": int(size), "root": root, "note": note, "time": time}


def _seq_chunks(size: int) -> Iterator[range]:
    for start in range(0, size, _CHUNK):
        yield range(start, min(size, start + _CHUNK))


def _switch_meta(conn: Connection, origin: str, archived: ArchivedLog | None) -> None:
    """The ledger's log is now ``origin``, of commitments; ``archived`` is listed."""
    meta = schema.meta
    found = conn.execute(select(meta.c.value).where(meta.c.key == ARCHIVES_KEY)).scalar()
    archives = json.loads(found) if found else []
    if archived is not None:
        archives.append(asdict(archived))
    rows = {"log_origin": origin, LEAVES_KEY: COMMITMENT_LEAVES}
    if archives:
        rows[ARCHIVES_KEY] = json.dumps(archives, sort_keys=True)
    conn.execute(delete(meta).where(meta.c.key.in_(list(rows))))
    conn.execute(insert(meta), [{"key": k, "value": v} for k, v in rows.items()])


def _move(source: Path, target: Path) -> None:
    """One step of the move: a rename (atomic, same filesystem)."""
    os.replace(source, target)


def _finish(store: Store, directory: Path) -> None:
    """Move the old log into its archive folder and the new one into place (resumable)."""
    staging = directory / STAGING_DIR
    archive = directory / archives_of(store.meta())[-1].directory
    archive.mkdir(parents=True, exist_ok=True)
    for name in (CHECKPOINTS_FILE, ARCHIVE_FILE):
        if (staging / name).exists():
            _move(staging / name, archive / name)
    for name in _LOG_FILES:  # old files out first: a live file with a staged twin is old
        if (staging / "new" / name).exists() and (directory / name).exists():
            _move(directory / name, archive / name)
    for name in _LOG_FILES:
        if (staging / "new" / name).exists():
            _move(staging / "new" / name, directory / name)
    settings = LedgerSettings.from_meta(store.meta())
    with writer_transaction(store, check_log=False) as conn:
        note = latest_checkpoint(conn)
        if note is not None:
            LedgerLog(settings.log).publish(note)
    shutil.rmtree(staging)
