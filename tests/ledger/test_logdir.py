"""A log directory belongs to one database: copies, restored backups and foreign checkpoints
cannot append to it (and fork the public log); what a crash leaves behind is still repaired.

Every refusal is checked to change nothing: not the database (``snapshot``), not the log
directory (every file's bytes).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, make_url

from examples import example_events, example_registry
from ledger_support import new_ledger, snapshot
from raretrace.domain.errors import ConfigError
from raretrace.ledger import service
from raretrace.ledger.append import Ledger, writer_transaction
from raretrace.ledger.audit import audit_ledger
from raretrace.ledger.logdir import OWNER_FILE
from raretrace.ledger.transparency import KEY_FILE
from raretrace.log.checkpoint import Checkpoint, sign_checkpoint
from raretrace.log.note import Ed25519Signer
from raretrace.store import schema
from raretrace.store.store import Store

pytestmark = pytest.mark.integration
REGISTRY = example_registry()

Clone = Callable[[str, str], str]


def _extract(n: int) -> dict[str, Any]:
    first = example_events()[0]
    return {**first, "id": f"x{n}", "outputs": [{**first["outputs"][0], "lot": f"X-{n}"}]}


def _files(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` and the SHA-256 of its bytes."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def clone(request: pytest.FixtureRequest, tmp_path: Path) -> Clone:
    """``clone(db, name)``: a byte-for-byte copy of a closed ledger database, as ``cp`` or
    ``CREATE DATABASE … TEMPLATE`` makes it; with ``name`` an existing database of the same
    backend, the copy replaces it (a restore from backup)."""

    def make(db: str, name: str) -> str:
        if "://" not in db:
            target = Path(name) if name.startswith("/") else tmp_path / f"{name}.db"
            # SQLite's online backup: the same bytes ``cp`` copies from a closed database,
            # written through SQLite so that connections this process still pools stay sound.
            with closing(sqlite3.connect(db)) as src, closing(sqlite3.connect(target)) as dst:
                src.backup(dst)
            return str(target)
        import psycopg
        from psycopg import sql

        server = request.getfixturevalue("pg_server")
        source = make_url(db).database
        target_name = make_url(name).database if "://" in name else name
        with psycopg.connect(server.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(target_name)
                )
            )
            # Idle pooled connections of this process (pre-pinged, they reconnect) would
            # stop the copy: a database is copied as a stopped server would leave it.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (source,),
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target_name), sql.Identifier(source)
                )
            )
        request.addfinalizer(lambda: server.drop_database(target_name))
        url: str = server.url(target_name)
        return url

    return make


def _original(db_url: str, log_dir: Path) -> None:
    """The example ledger with its events, closed (so it can be copied)."""
    ledger = new_ledger(db_url, REGISTRY, log_dir=log_dir)
    assert ledger.ingest(enumerate(example_events(), 1)).rejected == 0
    ledger.close()


def _refused(db: str, match: str, log_dir: Path) -> None:
    """Writing to ``db`` is refused with ``match`` and changes nothing anywhere: up front by
    ``open_ledger``, and by the writer lock's check for a Ledger opened without it."""
    ledger = Ledger(Store.open(db))
    before, files = snapshot(ledger), _files(log_dir)
    with pytest.raises(ConfigError, match=match):
        service.open_ledger(db)
    with pytest.raises(ConfigError, match=match):
        ledger.ingest([(1, _extract(1))])
    assert snapshot(ledger) == before
    assert _files(log_dir) == files
    ledger.close()


def _ingest(db: str, *events: dict[str, Any]) -> None:
    with service.open_ledger(db) as ledger:
        report = ledger.ingest(enumerate(events, 1))
        assert report.accepted == len(events), report.rejections


def _checks(db: str) -> dict[str, int]:
    store = Store.open(db)
    try:
        return audit_ledger(store, workers=1).by_check
    finally:
        store.close()


def test_a_copy_of_the_database_cannot_append_to_the_original_log(
    db_url: str, tmp_path: Path, clone: Clone
) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    copy = clone(db_url, "copy")
    _refused(copy, "is a copy of that ledger", log_dir)
    store = Store.open(copy)
    # Every writer (ingest, registry load, cosignatures) goes through this transaction.
    with pytest.raises(ConfigError, match="is a copy"), writer_transaction(store):
        pass
    store.close()
    assert _checks(copy) == {"log-directory": 1}  # a copy
    _ingest(db_url, _extract(2))  # the original goes on
    assert _checks(db_url) == {}
    assert _checks(copy) == {"log-directory": 2}  # a copy, and the log is ahead of it


def test_a_copy_gets_a_log_of_its_own_with_init_log_dir(
    db_url: str, tmp_path: Path, clone: Clone
) -> None:
    log_dir, own = tmp_path / "log", tmp_path / "copy-log"
    _original(db_url, log_dir)
    copy = clone(db_url, "copy")
    files = _files(log_dir)
    service.init_ledger(copy, log_dir=own).close()
    assert _files(log_dir) == files  # the original's log is untouched
    _ingest(copy, _extract(1))
    _ingest(db_url, _extract(2))
    changed = json.loads(json.dumps(REGISTRY))
    changed["participants"][0]["name"] += " (staging)"
    (tmp_path / "registry.json").write_text(json.dumps(changed))
    with service.open_ledger(copy) as ledger:  # a registry change, signed by its own authority
        assert service.load_registry(ledger, tmp_path / "registry.json").accepted == 1
        assert ledger.settings.log.origin == f"raretrace.local/{own.name}"
        assert len(ledger.settings.registry_keys) == 2  # the original's still verifies history
    owner = json.loads((own / OWNER_FILE).read_text())
    assert owner["database"] != json.loads((log_dir / OWNER_FILE).read_text())["database"]
    assert _checks(copy) == {}
    assert _checks(db_url) == {}
    with pytest.raises(ConfigError, match="its own: it cannot move"):
        service.init_ledger(db_url, log_dir=tmp_path / "elsewhere")


def test_a_database_that_replaces_the_original_takes_the_log_over(
    db_url: str, tmp_path: Path, clone: Clone
) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    replacement = clone(db_url, "replacement")
    service.init_ledger(replacement, log_dir=log_dir).close()
    _ingest(replacement, _extract(1))
    _refused(db_url, "belongs to the database", log_dir)  # the old one is now the copy
    assert _checks(replacement) == {}


def test_a_log_directory_ahead_of_the_database_is_refused(
    db_url: str, tmp_path: Path, clone: Clone
) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    backup = clone(db_url, "backup")
    _ingest(db_url, _extract(1), _extract(2))
    clone(backup, db_url)  # restored from the older backup, at the same place
    _refused(
        db_url,
        r"is ahead of this database: its checkpoint is for 11 events \(root [0-9a-f]{64}\), the",
        log_dir,
    )
    assert _checks(db_url) == {"log-directory": 1}


def test_a_diverged_checkpoint_is_refused(db_url: str, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    signer = Ed25519Signer.from_skey((log_dir / KEY_FILE).read_text().strip())
    store = Store.open(db_url)
    size, origin = store.size(), store.meta()["log_origin"]
    store.close()
    # What a copy publishes under the same key: the same size, another tree.
    other = sign_checkpoint(Checkpoint(origin, size, b"\x07" * 32), signer)
    (log_dir / "checkpoint").write_text(other)
    _refused(db_url, f"has diverged from this database: its checkpoint for size {size}", log_dir)
    assert _checks(db_url) == {"checkpoints": 1}


def test_tiles_under_another_root_are_not_built_on(db_url: str, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    tile = next(p for p in (log_dir / "tile" / "0").rglob("*") if p.is_file())
    data = bytearray(tile.read_bytes())
    data[0] ^= 1
    tile.write_bytes(bytes(data))
    _refused(db_url, "the tiles in .* do not match this database", log_dir)


def test_a_checkpoint_left_behind_by_a_crash_is_republished(db_url: str, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    older = (log_dir / "checkpoint").read_text()
    _ingest(db_url, _extract(1))
    (log_dir / "checkpoint").write_text(older)  # committed, then the power went: not published
    _ingest(db_url, _extract(2))
    store = Store.open(db_url)
    assert (log_dir / "checkpoint").read_text().split("\n")[1] == str(store.size())
    store.close()


def test_a_ledger_from_before_owner_records_claims_its_directory(
    db_url: str, tmp_path: Path, clone: Clone
) -> None:
    log_dir = tmp_path / "log"
    _original(db_url, log_dir)
    store = Store.open(db_url)
    with store.engine.begin() as conn:
        conn.execute(delete(schema.meta).where(schema.meta.c.key == "ledger_id"))
    store.close()
    (log_dir / OWNER_FILE).unlink()
    copy = clone(db_url, "copy")
    _ingest(db_url, _extract(1))  # the first to write claims the directory
    owner = json.loads((log_dir / OWNER_FILE).read_text())
    store = Store.open(db_url)
    assert store.meta()["ledger_id"] == owner["ledger_id"]
    store.close()
    _refused(copy, "belongs to another ledger", log_dir)


def test_a_new_ledger_cannot_take_another_ledgers_directory(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    _original(str(tmp_path / "a.db"), log_dir)
    files = _files(log_dir)
    with pytest.raises(ConfigError, match="already belongs to the ledger in"):
        service.init_ledger(str(tmp_path / "b.db"), log_dir=log_dir)
    assert not (tmp_path / "b.db").exists()
    assert _files(log_dir) == files


def test_a_new_ledger_cannot_start_over_a_published_log(tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    _original(str(tmp_path / "a.db"), log_dir)
    for suffix in ("", "-wal", "-shm"):  # rm a.db; raretrace init: same path, same directory
        Path(f"{tmp_path / 'a.db'}{suffix}").unlink(missing_ok=True)
    files = _files(log_dir)
    with pytest.raises(ConfigError, match="already holds a published log"):
        service.init_ledger(str(tmp_path / "a.db"), log_dir=log_dir)
    assert not (tmp_path / "a.db").exists()
    assert _files(log_dir) == files


def test_a_moved_sqlite_file_keeps_its_log(tmp_path: Path, clone: Clone) -> None:
    log_dir = tmp_path / "log"
    _original(str(tmp_path / "a.db"), log_dir)
    clone(str(tmp_path / "a.db"), "moved")  # mv a.db moved.db
    for suffix in ("", "-wal", "-shm"):
        Path(f"{tmp_path / 'a.db'}{suffix}").unlink(missing_ok=True)
    _ingest(str(tmp_path / "moved.db"), _extract(1))
    owner = json.loads((log_dir / OWNER_FILE).read_text())
    assert owner["database"] == str((tmp_path / "moved.db").resolve())
    assert _checks(str(tmp_path / "moved.db")) == {}
