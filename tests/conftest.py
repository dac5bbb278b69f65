"""Shared fixtures: a real throwaway PostgreSQL 15 server, per-test databases, temporary files.

Fixtures
--------
pg_url        (session)  URL of a database on a throwaway PostgreSQL 15 server that is
                         started once per session and stopped/removed at the end.
fresh_pg_url  (function) URL of a new, empty database on that server; dropped afterwards.
db_url        (function) parametrized ``sqlite`` / ``postgresql``: a SQLite file path
                         (``str``) inside ``tmp_path``, or a ``fresh_pg_url``.

Every test needs only the repository: test vectors are in ``tests/vectors/`` and reference data
in ``tests/data/``. Every file a test makes lives under pytest's base temporary folder, which
pytest removes after a passing run (``tmp_path_retention_policy = "failed"`` in
pyproject.toml; a failed test's folder is kept for inspection):
``_temporary_files_stay_inside_the_run`` points ``tempfile``, ``TMPDIR`` and ``XDG_DATA_HOME``
(inherited by the CLI subprocesses) there, since ledger logs hold private keys. The one
exception is the PostgreSQL server's folder (tests/pg.py), which the ``postgres`` OS user must
reach and ``pg_server`` removes itself.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

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


# Where programs put files that outlive them: temporary files (``tempfile``, ``TMPDIR``) and the
# user's data folder (``XDG_DATA_HOME``: ``raretrace demo`` keeps its log keys there).
REDIRECTED = ("TMPDIR", "XDG_DATA_HOME")


@pytest.fixture(scope="session", autouse=True)
def _temporary_files_stay_inside_the_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Path]]:
    """Send every ``tempfile`` file and every user-data file of this run, and of the
    processes it starts (``TMPDIR``, ``XDG_DATA_HOME``), into pytest's base temporary folder,
    which pytest removes after the run.

    Tests make their files under ``tmp_path`` / ``tmp_path_factory``; this catches whatever
    else writes such files (the code under test, libraries), so no ledger log with its private
    key outlives the run in the system's temporary folder or the user's home.
    """
    folders = {name: tmp_path_factory.mktemp(name.lower(), numbered=False) for name in REDIRECTED}
    saved_env = {name: os.environ.get(name) for name in REDIRECTED}
    saved_tempdir = tempfile.tempdir
    os.environ.update({name: str(folder) for name, folder in folders.items()})
    tempfile.tempdir = str(folders["TMPDIR"])
    try:
        yield folders
    finally:
        tempfile.tempdir = saved_tempdir
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


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


@pytest.fixture(autouse=True)
def _dispose_engines(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Close every database engine a test opened, so no connection outlives its test."""
    from raretrace.store import store as store_module

    made: list[object] = []
    real = store_module.open_engine

    def tracking(db: str, **options: Any) -> object:
        engine = real(db, **options)
        made.append(engine)
        return engine

    monkeypatch.setattr(store_module, "open_engine", tracking)
    yield
    for engine in made:
        engine.dispose()  # type: ignore[attr-defined]
