"""Shared fixtures: a real throwaway PostgreSQL 15 server, per-test databases, shared/.

Fixtures
--------
pg_url        (session)  URL of a database on a throwaway PostgreSQL 15 server that is
                         started once per session and stopped/removed at the end.
fresh_pg_url  (function) URL of a new, empty database on that server; dropped afterwards.
db_url        (function) parametrized ``sqlite`` / ``postgresql``: a SQLite file path
                         (``str``) inside ``tmp_path``, or a ``fresh_pg_url``.
shared_dir    (session)  ``Path`` of the ``shared/`` folder beside the repository.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest


def _load_pg_helper() -> ModuleType:
    # Loaded by path so it works whatever pytest's import mode / rootdir insertion is.
    name = "raretrace_tests_pg"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("pg.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pg = _load_pg_helper()

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[pg.PgServer]:
    """The running throwaway server (a ``PgServer``); prefer ``pg_url``/``fresh_pg_url``."""
    try:
        server = pg.start_server()
    except pg.PgSetupError as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        pytest.fail(problem, pytrace=False)
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def pg_url(pg_server: pg.PgServer) -> str:
    """SQLAlchemy URL of a session-wide database on the throwaway PostgreSQL 15 server."""
    name: str = pg_server.create_database("raretrace_test")
    url: str = pg_server.url(name)
    return url


@pytest.fixture
def fresh_pg_url(pg_server: pg.PgServer, pg_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a new empty database, dropped (WITH FORCE) after the test."""
    name: str = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store location on each backend: SQLite file path, or a fresh PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    url: str = request.getfixturevalue("fresh_pg_url")
    return url


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared/ folder beside the repository (conformance vectors, data, design docs)."""
    if not SHARED_DIR.is_dir():
        pytest.fail(
            f"shared folder not found at {SHARED_DIR}: it must sit beside the repository "
            "(copy shared/ next to the clone)",
            pytrace=False,
        )
    return SHARED_DIR


@pytest.fixture(autouse=True)
def _dispose_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every database engine a test opened, so no connection outlives its test."""
    from raretrace.store import store as store_module

    made: list[object] = []
    real = store_module.open_engine

    def tracking(db: str) -> object:
        engine = real(db)
        made.append(engine)
        return engine

    monkeypatch.setattr(store_module, "open_engine", tracking)
    yield
    for engine in made:
        engine.dispose()  # type: ignore[attr-defined]
