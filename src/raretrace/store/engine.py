"""Opening a ledger database: a SQLite file (the embedded default) or a PostgreSQL URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from raretrace.domain.errors import ConfigError

DEFAULT_DB = "raretrace.db"
ENV_VAR = "RARETRACE_DB"
#: Execution option marking a connection that will write: on SQLite it begins IMMEDIATE.
WRITE_OPTION = "raretrace_write"


def resolve_db(db: str | None) -> str:
    """The database to use: ``--db``, else ``$RARETRACE_DB``, else ./raretrace.db."""
    return db or os.environ.get(ENV_VAR) or DEFAULT_DB


def database_url(db: str) -> str:
    """A SQLAlchemy URL for a file path or a database URL.

    ``postgresql://`` URLs get the psycopg (v3) driver; anything without ``://`` is a
    SQLite file path.
    """
    if "://" not in db:
        return "sqlite+pysqlite:///" + str(Path(db).expanduser().resolve())
    for prefix in ("postgresql://", "postgres://"):
        if db.startswith(prefix):
            return "postgresql+psycopg://" + db[len(prefix) :]
    return db


def unusable_database(db: str, exc: Exception) -> str:
    """One line for a database that cannot be used (server down or unreachable, login
    refused, file locked or unreadable, disk full): the driver's first line and what to check."""
    words = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = words[0] if words else type(exc).__name__
    return (
        f"cannot use database {db!r}: {first}; check --db / ${ENV_VAR}, and that the database"
        " server is running and reachable"
    )


def _sqlite_setup(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN; take it over so a writing
    # transaction is BEGIN IMMEDIATE: writers serialize up front instead of failing mid-batch
    # (the recipe in SQLAlchemy's pysqlite notes, "Serializable isolation / Savepoints").
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged (committed) batch survives power loss, not only a crash.
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Readers take no lock up front (WAL lets them read beside the writer).
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def open_engine(db: str) -> Engine:
    """An engine for ``db`` (path or URL), configured for the ledger's write pattern."""
    url = database_url(db)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"cannot use database {db!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and not Path(path).parent.is_dir():
            raise ConfigError(
                f"cannot create database {db!r}: folder {Path(path).parent} does not exist"
            )
        engine = create_engine(url)
        _sqlite_setup(engine)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {db!r}: use a SQLite file path or a postgresql:// URL"
        )
    return create_engine(url, pool_pre_ping=True)
