"""The database fixtures give a real PostgreSQL 15 server and both store backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

pytestmark = pytest.mark.integration


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def test_pg_url_is_a_real_postgresql_15_server(pg_url: str) -> None:
    assert pg_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    with engine_for(pg_url) as engine, engine.begin() as conn:
        version = conn.execute(sa.text("select version()")).scalar_one()
        assert "PostgreSQL 15" in version
        assert conn.execute(sa.text("show fsync")).scalar_one() == "off"
        assert conn.execute(sa.text("show server_encoding")).scalar_one() == "UTF8"
        assert conn.execute(sa.text("show listen_addresses")).scalar_one() == "127.0.0.1"


def test_pg_url_round_trips_a_row(pg_url: str) -> None:
    with engine_for(pg_url) as engine:
        with engine.begin() as conn:
            conn.execute(sa.text("drop table if exists fixture_probe"))
            conn.execute(sa.text("create table fixture_probe (id int primary key, note text)"))
            conn.execute(
                sa.text("insert into fixture_probe values (:id, :note)"),
                {"id": 1, "note": "neodymium – Nd"},
            )
        with engine.connect() as conn:
            row = conn.execute(sa.text("select id, note from fixture_probe")).one()
        assert tuple(row) == (1, "neodymium – Nd")
        with engine.begin() as conn:
            conn.execute(sa.text("drop table fixture_probe"))


@pytest.fixture
def other_fresh_pg_url(pg_server: Any) -> Iterator[str]:
    # A second fresh database in the same test, made the way fresh_pg_url makes one.
    name: str = pg_server.create_database()
    try:
        yield pg_server.url(name)
    finally:
        pg_server.drop_database(name)


def test_fresh_pg_databases_are_empty_and_independent(
    fresh_pg_url: str, other_fresh_pg_url: str, pg_url: str
) -> None:
    assert len({fresh_pg_url, other_fresh_pg_url, pg_url}) == 3
    with engine_for(fresh_pg_url) as a, engine_for(other_fresh_pg_url) as b:
        for engine in (a, b):
            assert sa.inspect(engine).get_table_names() == []
        with a.begin() as conn:
            conn.execute(sa.text("create table only_in_a (x int)"))
            conn.execute(sa.text("insert into only_in_a values (42)"))
        assert sa.inspect(a).get_table_names() == ["only_in_a"]
        assert sa.inspect(b).get_table_names() == []


_seen_fresh: list[str] = []


@pytest.mark.parametrize("round_", [1, 2])
def test_fresh_pg_url_is_new_each_test_and_dropped_after(
    fresh_pg_url: str, pg_url: str, round_: int
) -> None:
    _seen_fresh.append(fresh_pg_url)
    assert len(set(_seen_fresh)) == round_
    with engine_for(pg_url) as engine, engine.connect() as conn:
        names = set(conn.execute(sa.text("select datname from pg_database")).scalars())
    current = fresh_pg_url.rsplit("/", 1)[1]
    assert current in names
    for earlier in _seen_fresh[:-1]:
        assert earlier.rsplit("/", 1)[1] not in names  # dropped after its test


def test_db_url_yields_both_backends(
    db_url: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    backend = request.node.callspec.params["db_url"]
    assert request.node.callspec.id == backend  # ids are "sqlite" / "postgresql"
    if backend == "sqlite":
        assert "://" not in db_url
        assert Path(db_url).parent == tmp_path
        url = f"sqlite:///{db_url}"
    else:
        assert backend == "postgresql"
        assert db_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        url = db_url
    with engine_for(url) as engine:
        with engine.begin() as conn:
            conn.execute(sa.text("create table probe (x int)"))
            conn.execute(sa.text("insert into probe values (7)"))
        with engine.connect() as conn:
            assert conn.execute(sa.text("select x from probe")).scalar_one() == 7
        assert engine.dialect.name == backend
    if backend == "sqlite":
        assert Path(db_url).is_file()
