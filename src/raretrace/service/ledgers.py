"""Opening a ledger for an edge (the command line or the HTTP service): which database, how
it is opened, and the one line that says why a database cannot be used.

Edges never touch SQLAlchemy or the store's tables; they get a ``Store`` handle from here
and pass it to the service functions.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.exc import DatabaseError, OperationalError

from raretrace.domain.errors import ConfigError
from raretrace.ledger import service as ledger_service
from raretrace.ledger.append import Ledger
from raretrace.store import schema
from raretrace.store.engine import ENV_VAR, dispose_engines, resolve_db, unusable_database
from raretrace.store.store import Store

__all__ = [
    "DEMO_MARK",
    "ENV_VAR",
    "Store",
    "describe_unusable",
    "dispose_engines",
    "drop_ledger",
    "fresh_demo_db",
    "mark_made_by",
    "open_ledger",
    "open_store",
    "resolve_db",
]

#: The ``made_by`` setting of a ledger ``raretrace demo`` built (and may therefore replace).
DEMO_MARK = "demo"


def open_store(db: str, *, write: bool = False) -> Store:
    """The ledger a command reads (or, with ``write``, changes), checked to be initialised.

    A reading open never creates the file nor leaves files beside it.
    """
    store = Store.open(db, access="write" if write else "read")
    store.require_ready()
    return store


def open_ledger(db: str) -> Ledger:
    """The append path over an initialised ledger (``ledger.service.open_ledger``)."""
    return ledger_service.open_ledger(db)


def describe_unusable(db: str, exc: BaseException) -> str | None:
    """One line for a database that cannot be used (server down, login refused, file locked,
    disk full, SQLite's "not a database"/"malformed"); None for any other exception."""
    # DatabaseError itself (not IntegrityError & co.) is SQLite's "not a database"/"malformed".
    if isinstance(exc, OperationalError) or type(exc) is DatabaseError:
        return unusable_database(db, exc)
    return None


def mark_made_by(store: Store, maker: str) -> None:
    """Record which tool made a ledger (the demo marks its own, so it may replace it later)."""
    with store.engine.begin() as conn:
        conn.execute(schema.meta.insert().values(key="made_by", value=maker))


def fresh_demo_db(db: str) -> None:
    """Remove a previous demo ledger at ``db``; refuse to touch anything that is not one."""
    if "://" in db:
        store = Store.open(db)
        if store.schema_revision() is not None and store.meta().get("made_by") != DEMO_MARK:
            raise ConfigError(f"{db!r} holds a ledger that the demo did not make; use another --db")
        if store.schema_revision() is not None:
            raise ConfigError(f"{db!r} already holds a demo ledger; drop that database first")
        store.close()
        return
    path = Path(db)
    if not path.exists():
        return
    store = Store.open(db, access="read")
    try:
        meta = store.meta() if store.schema_revision() else {}
    finally:
        store.close()
    if meta.get("made_by") != DEMO_MARK:
        raise ConfigError(f"{db} exists and is not a demo ledger; choose another --db")
    log_dir = Path(meta.get("log_dir", ""))
    if meta.get("log_dir") and (log_dir / "log.key").exists():
        shutil.rmtree(log_dir)  # the demo's own log: tiles and demo keys
    for suffix in ("", "-wal", "-shm"):
        Path(db + suffix).unlink(missing_ok=True)


def drop_ledger(db: str) -> None:
    """Delete a (half-built) ledger: the SQLite file, or the tables in a database URL."""
    if "://" not in db:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
        return
    store = Store.open(db, access="write")
    try:
        schema.metadata.drop_all(store.engine)
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    finally:
        store.close()
