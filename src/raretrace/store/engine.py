"""Opening a ledger database: a SQLite file (the embedded default) or a PostgreSQL URL."""

from __future__ import annotations

import os
import weakref
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError

from raretrace.domain.errors import ConfigError

DEFAULT_DB = "raretrace.db"
ENV_VAR = "RARETRACE_DB"
#: Execution option marking a connection that will write: on SQLite it begins IMMEDIATE.
WRITE_OPTION = "raretrace_write"
#: The first 16 bytes of every SQLite 3 database file (https://sqlite.org/fileformat.html §1.3).
SQLITE_HEADER = b"SQLite format 3\x00"

#: How a command uses the database: ``read`` (never writes, never creates a file),
#: ``write`` (an existing ledger) or ``create`` (``raretrace init``: the file may be new).
Access = Literal["read", "write", "create"]
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
#: The SQLite file of each engine this process has open (see ``open_engine``).
_OPEN_FILES: weakref.WeakKeyDictionary[Engine, Path] = weakref.WeakKeyDictionary()


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
    refused, file locked, unreadable or not a database, disk full): the driver's first line
    and what to check."""
    words = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = words[0] if words else type(exc).__name__
    if "://" in db:
        advice = "and that the database server is running and reachable"
    elif "not a database" in first or "malformed" in first:
        advice = "it must name a ledger file made by `raretrace init`"
    else:
        advice = "and that the file is readable, not held by another program, and its disk not full"
    return f"cannot use database {db!r}: {first}; check --db / ${ENV_VAR}, {advice}"


def dispose_engines() -> None:
    """Close every engine this process opened (the CLI does so as a command ends, whatever
    the outcome), so SQLite removes its ``-wal``/``-shm`` files and a refused command leaves
    nothing behind."""
    for engine in list(_ENGINES):
        engine.dispose()
        _OPEN_FILES.pop(engine, None)


def _sqlite_setup(engine: Engine, *, access: Access) -> None:
    # pysqlite's own transaction handling defers BEGIN; take it over so a writing
    # transaction is BEGIN IMMEDIATE: writers serialize up front instead of failing mid-batch
    # (the recipe in SQLAlchemy's pysqlite notes, "Serializable isolation / Savepoints").
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if access == "read":
            # Refuse every write at the SQL level, whatever the file mode allows.
            cur.execute("PRAGMA query_only=ON")
        elif access == "create":
            # Persistent: set once by `raretrace init`, so opening a file that is not a
            # ledger yet for writing (it is refused next) does not convert it.
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


def _check_sqlite_file(db: str, path: Path, access: Access) -> None:
    """Refuse, before SQLite sees it, a file that is missing (unless creating), a folder, or
    not a SQLite database: SQLite would create the first and fail deep inside on the others."""
    if not path.exists():
        if access != "create":
            raise ConfigError(
                f"there is no ledger at {db!r}: the file does not exist; make one with"
                " `raretrace init` (or try `raretrace demo`), or check --db / $" + ENV_VAR
            )
        if not path.parent.is_dir():
            raise ConfigError(f"cannot create database {db!r}: folder {path.parent} does not exist")
        return
    if not path.is_file():
        raise ConfigError(
            f"cannot use database {db!r}: {path} is not a file; --db names the ledger's"
            " SQLite file (e.g. raretrace.db)"
        )
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise ConfigError(f"cannot read database {db!r}: {exc.strerror}") from None
    if head and head != SQLITE_HEADER:  # an empty file is an empty SQLite database
        raise ConfigError(
            f"{db!r} is not a SQLite database (it does not start with the SQLite header);"
            f" check --db / ${ENV_VAR}: it must name a ledger file made by `raretrace init`"
        )


def _sqlite_url(path: Path, access: Access) -> URL:
    """A SQLite URI filename (https://sqlite.org/uri.html) that never creates a missing file
    unless ``access`` is ``create``.

    A reader must leave nothing behind. With no ``-wal`` file beside the database (no writer
    has it open) and the file and its folder writable, a read-write handle with
    ``query_only`` reads it, and closing the last handle removes the ``-wal`` and ``-shm``
    files SQLite makes. If either is read-only, the database is opened ``immutable``: it
    cannot change under a reader that may not write it, and nothing is created. With a
    ``-wal`` present a writer is at work (or stopped without checkpointing): ``mode=ro``
    reads through its log, and the files stay that writer's.
    """
    mode = {"read": "ro", "write": "rw", "create": "rwc"}[access]
    query = {"mode": mode, "uri": "true"}
    if access == "read" and not Path(f"{path}-wal").exists():
        writable = os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)
        query = {"mode": "rw", "uri": "true"} if writable else {**query, "immutable": "1"}
    return URL.create("sqlite+pysqlite", database="file:" + quote(str(path)), query=query)


def open_engine(db: str, *, access: Access = "create") -> Engine:
    """An engine for ``db`` (path or URL), configured for the ledger's write pattern.

    ``access`` says what the command will do (see :data:`Access`); a SQLite file is checked
    before it is opened (:func:`_check_sqlite_file`) and read without leaving files behind.
    """
    url = database_url(db)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(f"cannot use database {db!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        # A plain path is taken as given: a URL would misread "?" or "#" in a file name.
        path = Path(db if "://" not in db else parsed.database or "").expanduser().resolve()
        if path not in _OPEN_FILES.values():
            # Only before this process has SQLite connections on the file: the check opens
            # and closes it, and closing any descriptor of a database file drops every POSIX
            # lock the process holds on it (sqlite.org/howtocorrupt.html §2.2), letting
            # another process reset the WAL under this one's connections.
            _check_sqlite_file(db, path, access)
        engine = create_engine(_sqlite_url(path, access))
        _sqlite_setup(engine, access=access)
        _probe(engine, db)
        _ENGINES.add(engine)
        _OPEN_FILES[engine] = path
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"unsupported database {db!r}: use a SQLite file path or a postgresql:// URL"
        )
    options = {"options": "-c default_transaction_read_only=on"} if access == "read" else {}
    engine = create_engine(url, pool_pre_ping=True, connect_args=options)
    _ENGINES.add(engine)  # a reading command's transactions are all READ ONLY (above)
    return engine


def _probe(engine: Engine, db: str) -> None:
    """Read the SQLite header and schema now, so a damaged or foreign file is one clear error
    at open rather than a driver error in the middle of a command."""
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA schema_version")
    except DatabaseError as exc:  # also OperationalError (locked, unreadable)
        engine.dispose()
        raise ConfigError(unusable_database(db, exc)) from None
