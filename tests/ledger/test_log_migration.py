"""A ledger made before salted commitments (its log's entries are the events in clear) moves to a
new log of commitments with ``raretrace log migrate``; its old log is archived and stays
verifiable; on SQLite and PostgreSQL.

The ledger is ``tests/fixtures/legacy_ledger/ledger.json.gz``: a signed demo ledger written by
raretrace at schema 0005 (``make_legacy_ledger.py`` says how), loaded here table by table into
a database at that schema, with its log directory as the old code left it.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from legacy_support import FIXTURE, OLD_ORIGIN, at_log_dir, load_legacy, migration_config
from raretrace.domain.errors import ConfigError
from raretrace.ledger import logmigrate, logview, service
from raretrace.ledger.audit import AuditReport, audit_ledger
from raretrace.ledger.bundle import export_bundle, own_trust, trust_file
from raretrace.ledger.settings import LedgerSettings
from raretrace.log.checkpoint import verify_checkpoint
from raretrace.log.note import Ed25519Verifier
from raretrace.log.tiles import TileReader, decode_entry_bundle
from raretrace.store import schema
from raretrace.store.store import Store
from raretrace.verify import parse_trust, verify_bundle

pytestmark = pytest.mark.integration


@pytest.fixture
def legacy(db_url: str, tmp_path: Path) -> Iterator[Store]:
    """The old ledger after `raretrace init` (schema at head), not yet moved."""
    load_legacy(db_url, tmp_path / "log")
    store = service.init_ledger(db_url)
    yield store
    store.close()


def audit(store: Store) -> AuditReport:
    report = audit_ledger(store, workers=1, full=True)
    assert report.ok, [f.line() for f in report.findings][:8]
    return report


def entries(log_dir: Path, size: int) -> list[bytes]:
    reader = TileReader(log_dir, size)
    return [reader.read_entry(i) for i in range(size)]


def stored(store: Store) -> list[tuple[str, bytes | None]]:
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT body, salt FROM events ORDER BY seq"))
        return [(body, None if salt is None else bytes(salt)) for body, salt in rows]


def a_lot_with_history(store: Store) -> str:
    with store.engine.connect() as conn:
        query = "SELECT lot FROM lot_events GROUP BY lot ORDER BY count(*) DESC, lot LIMIT 1"
        return str(conn.execute(text(query)).scalar_one())


def test_the_old_ledger_reads_proves_and_audits_as_before_but_takes_no_event(
    legacy: Store, tmp_path: Path
) -> None:
    settings = LedgerSettings.from_meta(legacy.meta())
    assert settings.clear_leaves and settings.log.origin == OLD_ORIGIN
    events = stored(legacy)
    assert all(salt is None for _, salt in events)
    proof = logview.prove_event(legacy, json.loads(events[5][0])["id"])
    assert proof.salt is None and proof.leaf == events[5][0].encode("utf-8")
    assert proof.to_json()["salt"] is None
    bundle = export_bundle(legacy, a_lot_with_history(legacy))
    assert json.loads(bundle.data)["version"] == 1  # its events in clear, no salts
    audit(legacy)
    before = snapshot_of(legacy)
    with pytest.raises(ConfigError, match=r"publishes its events in clear .* run `raretrace log"
                       r" migrate --db .*`"):  # fmt: skip
        service.open_ledger(legacy.url)
    assert snapshot_of(legacy) == before


def snapshot_of(store: Store) -> str:
    """A digest of every row of every ledger table (as ``ledger_support.snapshot``)."""
    digest = hashlib.sha256()
    with store.engine.connect() as conn:
        for table in schema.metadata.sorted_tables:
            rows = conn.execute(select(table)).all()
            for row in sorted(repr(tuple(r)) for r in rows):
                digest.update(row.encode())
            digest.update(f"|{table.name}|".encode())
    return digest.hexdigest()


def test_migrate_moves_the_ledger_to_a_new_log_of_commitments(
    legacy: Store, tmp_path: Path
) -> None:
    log_dir = tmp_path / "log"
    old_vkey = logview.log_vkey(legacy)
    old_trust = own_trust(LedgerSettings.from_meta(legacy.meta()))
    lot = a_lot_with_history(legacy)
    old_bundle = export_bundle(legacy, lot).data
    old_note = logview.checkpoint_note(legacy)
    old_tile = (log_dir / "tile/0/000").read_bytes()
    size = len(stored(legacy))

    done = logmigrate.migrate_log(legacy)

    assert done.done and done.origin == f"{OLD_ORIGIN}/v2" and done.size == size
    archived = done.archived
    assert archived is not None
    assert (archived.origin, archived.size, archived.vkey) == (OLD_ORIGIN, size, old_vkey)
    assert archived.directory == "archive/1" and archived.successor == done.origin
    # The old log, archived whole: its tiles, final checkpoint, key and stored checkpoints.
    archive = log_dir / "archive" / "1"
    assert (archive / "tile/0/000").read_bytes() == old_tile
    assert (archive / "checkpoint").read_text() == old_note
    assert (archive / "log.vkey").read_text().strip() == old_vkey
    assert len((archive / "checkpoints.jsonl").read_text().splitlines()) == 4
    assert json.loads((archive / "archive.json").read_text())["root"] == archived.root
    assert not (log_dir / ".migrating").exists()
    # The new log: its own key and origin, one checkpoint, entries that are commitments.
    new_key = Ed25519Verifier.from_vkey((log_dir / "log.vkey").read_text().strip())
    assert new_key.name == done.origin and done.vkey != old_vkey
    checkpoint = verify_checkpoint((log_dir / "checkpoint").read_bytes(), new_key)
    assert checkpoint.size == size
    events = stored(legacy)
    for (body, salt), entry in zip(events, entries(log_dir, size), strict=True):
        assert salt is not None and entry == hashlib.sha256(salt + body.encode()).digest()
    for path in (log_dir / "tile" / "entries").rglob("*"):
        if path.is_file():
            assert {len(e) for e in decode_entry_bundle(path.read_bytes())} == {32}
    report = audit(legacy)
    assert report.tree_size == size and report.checkpoints == 1 + 4  # the new + the archived
    # Bundles: the one exported before still verifies under the old log's key; new ones
    # carry salts and verify under the new key.
    verify_bundle(old_bundle, old_trust)
    new_bundle = export_bundle(legacy, lot)
    assert json.loads(new_bundle.data)["version"] == 2
    verify_bundle(new_bundle.data, own_trust(LedgerSettings.from_meta(legacy.meta())))
    published = parse_trust(trust_file(legacy))  # lists the archived log's key too
    assert [k.name for k in published.logs] == [done.origin, OLD_ORIGIN]
    verify_bundle(old_bundle, published)
    verify_bundle(new_bundle.data, published)
    # The ledger takes events again, into the new log.
    again = logmigrate.migrate_log(legacy)
    assert not again.done and again.origin == done.origin
    newcomer = {"participants": [{"id": "newco-my", "name": "Newco", "country": "MY"}]}
    with service.open_ledger(legacy.url) as ledger:
        signer = service.registry_signer(ledger)
        events = service.registry_events(newcomer, ledger.registry, signer=signer)
        assert ledger.ingest(enumerate(events, 1)).accepted == 1
    assert audit(legacy).tree_size == size + 1


def test_the_audit_checks_the_archived_log(legacy: Store, tmp_path: Path) -> None:
    logmigrate.migrate_log(legacy)
    tile = tmp_path / "log" / "archive" / "1" / "tile" / "0" / "000"
    data = bytearray(tile.read_bytes())
    data[100] ^= 1
    tile.write_bytes(bytes(data))
    (tmp_path / "log" / "archive" / "1" / "checkpoint").unlink()
    report = audit_ledger(legacy, workers=1)
    lines = [f.line() for f in report.findings if f.check == "log-archive"]
    assert any(line.startswith("archive/1 archive/1/tile/0/000: tiles: differs") for line in lines)
    assert any("no final checkpoint of the archived log" in line for line in lines), lines
    assert set(report.by_check) == {"log-archive"}


def test_a_migration_that_fails_before_its_commit_changes_nothing(
    legacy: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot_of(legacy)
    files = sorted(p.relative_to(tmp_path) for p in (tmp_path / "log").rglob("*"))

    def broken(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(logmigrate, "create_log", broken)
    with pytest.raises(OSError):
        logmigrate.migrate_log(legacy)
    assert snapshot_of(legacy) == before
    left = sorted(p.relative_to(tmp_path) for p in (tmp_path / "log").rglob("*"))
    assert [p for p in left if ".migrating" not in str(p)] == files
    monkeypatch.undo()
    assert logmigrate.migrate_log(legacy).done  # the staging folder left behind is discarded
    audit(legacy)


def test_an_interrupted_move_of_the_files_is_finished_by_running_it_again(
    legacy: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the database committed, halfway through the renames."""
    calls = {"n": 0}
    real = logmigrate._move

    def crash_on_the_fifth(source: Path, target: Path) -> None:
        calls["n"] += 1  # 1-2: the archive's description, 3-6: the old log out, 7-10: the new in
        if calls["n"] == 5:
            raise OSError(5, "Input/output error")
        real(source, target)

    monkeypatch.setattr(logmigrate, "_move", crash_on_the_fifth)
    with pytest.raises(OSError):
        logmigrate.migrate_log(legacy)
    monkeypatch.undo()
    with pytest.raises(ConfigError, match=r"`raretrace log migrate` of .* did not finish; run it"):
        service.open_ledger(legacy.url)
    done = logmigrate.migrate_log(legacy)
    assert done.resumed and not done.done
    assert not (tmp_path / "log" / ".migrating").exists()
    audit(legacy)


def test_a_new_origin_must_differ_and_name_a_key(legacy: Store) -> None:
    with pytest.raises(ConfigError, match="needs an origin of its own"):
        logmigrate.migrate_log(legacy, origin=OLD_ORIGIN)
    with pytest.raises(ConfigError, match="--log-origin"):
        logmigrate.migrate_log(legacy, origin="two words")
    assert LedgerSettings.from_meta(legacy.meta()).clear_leaves  # nothing changed


def test_an_empty_ledger_of_the_old_schema_starts_with_commitments(
    db_url: str, tmp_path: Path
) -> None:
    """A ledger made (and never used) before 0008 has published nothing: the migration marks
    its log as one of commitments, with no new origin."""
    doc: dict[str, Any] = json.loads(gzip.decompress(FIXTURE.read_bytes()))
    log_dir = tmp_path / "log"
    store = Store.open(db_url)
    with store.engine.begin() as conn:
        command.upgrade(migration_config(conn), doc["revision"])
        conn.execute(insert(schema.meta), [at_log_dir(r, log_dir) for r in doc["tables"]["meta"]])
    store.close()
    log_dir.mkdir()
    for name in ("log.key", "log.vkey", "registry.key"):
        (log_dir / name).write_bytes(base64.b64decode(doc["log_files"][name]))
    store = service.init_ledger(db_url)
    settings = LedgerSettings.from_meta(store.meta())
    assert not settings.clear_leaves and settings.log.origin == OLD_ORIGIN
    store.close()
    with service.open_ledger(db_url) as ledger:  # it takes events, into a log of commitments
        signer = service.registry_signer(ledger)
        newcomer = {"participants": [{"id": "newco-my", "name": "Newco", "country": "MY"}]}
        events = service.registry_events(newcomer, ledger.registry, signer=signer)
        assert ledger.ingest(enumerate(events, 1)).accepted == 1
    assert len(entries(log_dir, 1)[0]) == 32


def test_entry_bundles_are_public_once_the_log_holds_commitments(legacy: Store) -> None:
    """The service's /log/tile/entries/… : a clear-text log's entry bundles are the council's
    alone (they hold the events); once moved to commitments, anyone may mirror them."""
    from raretrace.service import logs
    from raretrace.service.access import ANONYMOUS, Forbidden, Principal

    def first_entry_bundle() -> tuple[str, bytes]:
        root = LedgerSettings.from_meta(legacy.meta()).log.directory
        path = min(p for p in (root / "tile" / "entries").rglob("*") if p.is_file())
        return path.relative_to(root).as_posix(), path.read_bytes()

    first_id = json.loads(stored(legacy)[0][0])["id"].encode()
    council = Principal("council", "council.asean", "t1")
    entry, data = first_entry_bundle()
    assert first_id in data  # the events in clear
    with pytest.raises(Forbidden):
        logs.log_file(legacy, ANONYMOUS, entry)
    assert logs.log_file(legacy, council, entry).is_file()
    logmigrate.migrate_log(legacy)
    entry, data = first_entry_bundle()
    assert logs.log_file(legacy, ANONYMOUS, entry).read_bytes() == data
    assert first_id not in data
