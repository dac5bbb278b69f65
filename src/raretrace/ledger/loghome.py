"""``raretrace init`` and the log directory: bind it, let a database replace its owner, or give
a copied ledger a log of its own.

- A new ledger's directory must not belong to another ledger (``ledger.json``, see
  ``logdir.py``); the owner record is written once the ledger's settings are committed.
- ``raretrace init`` on an existing ledger checks its directory as a write would, and writes
  the owner record of a ledger made before records existed.
- ``raretrace init --log-dir SAME`` (the directory the ledger already names) makes this
  database the directory's owner — for a database that replaces the original (moved to
  another path or server, restored) — but only if it is exactly as far along as the log.
- ``raretrace init --log-dir NEW`` on a copy (a database that does not own its directory)
  gives it a log of its own: a new log key and origin, a new registry authority key beside
  the old one (which still verifies the history), tiles rebuilt from the events, one
  checkpoint for its current size signed with the new key (the original's checkpoints are
  dropped from the copy: they are the original's log, not this one's), and a new ledger id.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, delete, insert
from sqlalchemy.exc import ArgumentError

from raretrace.domain.errors import ConfigError
from raretrace.domain.keys import parse_key
from raretrace.domain.model import REGISTRY_ACTOR
from raretrace.ledger.append import writer_transaction
from raretrace.ledger.keyfiles import KeyFile, new_key, read_key_file, write_key_file
from raretrace.ledger.logdir import (
    LogOwner,
    database_location,
    event_count,
    location_of,
    new_ledger_id,
    ownership_problem,
    position_problem,
    read_owner,
    write_owner,
)
from raretrace.ledger.settings import LEDGER_ID, LedgerSettings
from raretrace.ledger.transparency import KEY_FILE, LedgerLog, LogSettings, create_log
from raretrace.log.tiles import tiles_on_disk
from raretrace.store import schema
from raretrace.store.store import Store

REGISTRY_KEY_FILE = "registry.key"  # as in service.py: the registry authority's key


def check_free_for_new_ledger(db: str, directory: Path) -> None:
    """Refuse to start a new ledger in ``db`` (before anything is created) in a directory
    that already holds another database's log, or any published log: a new ledger's first
    checkpoint would be a second, different tree under that log's key."""
    directory = directory.resolve()
    owner = read_owner(directory)
    published = (directory / "checkpoint").exists() or tiles_on_disk(directory) > 0
    if owner is None and not published:
        return
    try:
        location = location_of(db)
    except ArgumentError:
        return  # not a database URL: opening it says so
    if _holds_ledger(db):
        return  # an existing ledger: its own directory is what counts (``settle_at_init``)
    if owner is not None and owner.database != location:
        raise ConfigError(
            f"the log directory {directory} already belongs to the ledger in"
            f" {owner.database}; a new ledger needs a log directory of its own: choose another"
            " --log-dir"
        )
    raise ConfigError(
        f"the log directory {directory} already holds a published log (its checkpoint and"
        " tiles), whose database is gone or empty; a new ledger starts a log of its own:"
        f" choose another --log-dir, or delete {directory} if that log is to be discarded"
    )


def _holds_ledger(db: str) -> bool:
    if "://" not in db and not Path(db).expanduser().exists():
        return False  # opening it would create the file
    store = Store.open(db, access="read")
    try:
        return store.schema_revision() is not None
    finally:
        store.close()


def bind_new(store: Store, settings: LedgerSettings) -> None:
    """Record a new ledger (committed) as the owner of its log directory."""
    assert settings.ledger_id is not None
    location = database_location(store.engine.url)
    write_owner(settings.log.directory, LogOwner(settings.ledger_id, location))


def settle_at_init(store: Store, *, log_dir: Path | None, log_origin: str | None) -> None:
    """What ``raretrace init`` does with an existing ledger's log directory (module doc)."""
    settings = LedgerSettings.from_meta(store.meta())
    current = settings.log.directory
    wanted = None if log_dir is None else log_dir.resolve()
    if wanted is not None and wanted != current:
        _give_own_log(store, wanted, log_origin)
        return
    if log_origin is not None and log_origin != settings.log.origin:
        raise ConfigError(f"this ledger's log origin is {settings.log.origin!r}; it cannot change")
    if wanted is None:
        with writer_transaction(store):
            pass  # the writers' check; records the owner of a ledger made before records
    else:
        _adopt(store)


def _adopt(store: Store) -> None:
    """Make this database the owner of its log directory, if exactly as far along as it."""
    with writer_transaction(store, check_log=False) as conn:
        settings = _with_id(conn, LedgerSettings.from_meta(store.meta(conn)))
        assert settings.ledger_id is not None
        location = database_location(conn.engine.url)
        directory = settings.log.directory
        problem = position_problem(
            conn, directory=directory, origin=settings.log.origin, size=event_count(conn),
            location=location,
        )  # fmt: skip
        if problem is not None:
            raise ConfigError(f"cannot make this database the log's owner: {problem.message}")
        if not (directory / KEY_FILE).is_file():
            raise ConfigError(
                f"{directory} holds no log key ({KEY_FILE}); it is not this ledger's log"
                " directory: restore it, or give the ledger a log of its own with"
                f" `raretrace init --db {location} --log-dir NEW-DIR`"
            )
        LedgerLog(settings.log).check_tiles(conn, event_count(conn))
        owner = LogOwner(settings.ledger_id, location)
    write_owner(directory, owner)


def _with_id(conn: Connection, settings: LedgerSettings) -> LedgerSettings:
    if settings.ledger_id is not None:
        return settings
    ledger_id = new_ledger_id()
    conn.execute(insert(schema.meta).values(key=LEDGER_ID, value=ledger_id))
    return replace(settings, ledger_id=ledger_id)


def _owns(conn: Connection, settings: LedgerSettings) -> bool:
    """Whether this database owns the directory its settings name (so it may not leave it)."""
    directory = settings.log.directory
    if not (directory / KEY_FILE).is_file():
        return False
    location = database_location(conn.engine.url)
    owner = read_owner(directory)
    if owner is not None:
        return (
            ownership_problem(
                owner, directory=directory, ledger_id=settings.ledger_id, location=location
            )
            is None
        )
    # No record yet (a ledger made before them): its own if it agrees with the database.
    problem = position_problem(
        conn, directory=directory, origin=settings.log.origin, size=event_count(conn),
        location=location,
    )  # fmt: skip
    return problem is None


def _give_own_log(store: Store, directory: Path, log_origin: str | None) -> None:
    """Re-home a copied ledger into a new log directory (module doc)."""
    for name in ("checkpoint", "tile", "ledger.json"):
        if (directory / name).exists():
            raise ConfigError(
                f"{directory} already holds a log ({name}); a ledger's own log starts in a new"
                " or empty directory: choose another --log-dir"
            )
    with writer_transaction(store, check_log=False) as conn:
        settings = LedgerSettings.from_meta(store.meta(conn))
        if _owns(conn, settings):
            raise ConfigError(
                f"this ledger's log is in {settings.log.directory}, which is its own: it cannot"
                " move (its checkpoints and bundles name it); to keep a copy of the ledger,"
                " copy the database and run `raretrace init --db COPY --log-dir NEW-DIR` on it"
            )
        origin = log_origin or f"raretrace.local/{directory.name}"
        if origin == settings.log.origin:
            raise ConfigError(
                f"the new log needs an origin of its own, not the original's {origin!r}:"
                " pass --log-origin"
            )
        size = event_count(conn)
        fresh = _fresh_settings(settings, LogSettings(directory, origin))
        _replace_settings(conn, settings, fresh, size)
        note = LedgerLog(fresh.log).append(conn, start=size, leaves=[]) if size else None
    if note is not None:
        LedgerLog(fresh.log).publish(note)
    assert fresh.ledger_id is not None
    write_owner(directory, LogOwner(fresh.ledger_id, database_location(store.engine.url)))


def _fresh_settings(settings: LedgerSettings, log: LogSettings) -> LedgerSettings:
    """The copy's settings with a log, log key and registry authority key of its own."""
    create_log(log)
    authority = _authority_key(log.directory)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = parse_key(authority.registry_entry(now), "registry")
    known = [k for k in settings.registry_keys if k.kid != entry.kid]
    return replace(settings, log=log, registry_keys=(*known, entry), ledger_id=new_ledger_id())


def _authority_key(directory: Path) -> KeyFile:
    path = directory / REGISTRY_KEY_FILE
    if path.exists():  # left by an earlier attempt that did not commit
        return read_key_file(path)
    key = new_key(REGISTRY_ACTOR)
    write_key_file(path, key)
    return key


def _replace_settings(
    conn: Connection, old: LedgerSettings, new: LedgerSettings, size: int
) -> None:
    """New settings in ``meta``, the original log's checkpoints gone, the fork recorded."""
    origin = {
        "ledger_id": old.ledger_id,
        "log_origin": old.log.origin,
        "log_dir": str(old.log.directory),
        "size": size,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    rows = {**new.to_meta(), "forked_from": json.dumps(origin)}
    conn.execute(delete(schema.meta).where(schema.meta.c.key.in_(list(rows))))
    conn.execute(insert(schema.meta), [{"key": k, "value": v} for k, v in rows.items()])
    conn.execute(delete(schema.checkpoints))
