"""The store on both backends: a SQLite file and a real PostgreSQL 15 server."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import DBAPIError

from examples import example_events, example_registry
from ledger_support import new_ledger, snapshot
from raretrace.domain.errors import ConfigError, NotFound, ValidationError
from raretrace.ledger import service
from raretrace.ledger import writes as writes_module
from raretrace.ledger.recompute import differences, recompute_lot
from raretrace.store import schema
from raretrace.store.store import Store

pytestmark = pytest.mark.integration
REGISTRY = example_registry()


def test_issue_example_traces_as_specified(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    report = ledger.ingest(enumerate(example_events(), 1))
    assert (report.accepted, report.rejected, report.discrepancies) == (5, 0, 0)
    view = service.trace(ledger.store, "NDPR-1")
    assert view["form"] == "oxide" and view["mass_kg"] == 104.0
    assert view["elements_kg"] == pytest.approx({"Pr": 19.71, "Nd": 69.14}, abs=0.006)
    assert view["origin"]["by_country"] == {"Pr": {"AU": 1.0}, "Nd": {"AU": 1.0}}
    assert view["origin"]["by_mine"] == {"Pr": {"AU-MTWELD": 1.0}, "Nd": {"AU-MTWELD": 1.0}}
    assert view["recycled_share"] == {"Pr": 0.0, "Nd": 0.0}
    assert [(s["stage"], s["facility"], s["country"]) for s in view["path"]] == [
        ("mine", "AU-MTWELD", "AU"),
        ("separation", "MY-GEBENG", "MY"),
    ]
    residue = service.trace(ledger.store, "RES-1")
    assert residue["elements_kg"] == {"Th": 1.1988}
    source = ledger.store.lot("MW-1")
    assert source.status == "consumed" and source.mass_kg == 0.0


def test_resending_is_a_no_op_and_a_changed_resend_is_rejected(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    ledger.ingest(enumerate(example_events(), 1))
    before = snapshot(ledger)
    again = ledger.ingest(enumerate(example_events(), 1))
    assert (again.accepted, again.duplicates, again.rejected) == (0, 5, 0)
    changed = {**example_events()[4], "reason": "spill"}
    with pytest.raises(ValidationError) as caught:
        ledger.append(changed)
    assert caught.value.rule == "duplicate-event-id"
    assert snapshot(ledger) == before


def test_a_rejected_event_changes_nothing_and_the_batch_goes_on(
    db_url: str, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    events = example_events()
    greedy = {**events[3], "id": "e4-greedy", "inputs": [{"lot": "MW-1", "mass_kg": 1200.0}]}
    report = ledger.ingest(enumerate([*events[:3], greedy, *events[3:]], 1))
    assert report.rejected == 1 and report.accepted == 5
    assert report.rejections[0].line == 4
    assert report.rejections[0].rule == "over-consumption"
    assert "1200" in report.rejections[0].error.message


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        # Not even strict JSON: refused by the reader, which names the problem.
        ('"note": "\\ud800"', "surrogate"),
        # JSON with no RFC 8785 form: refused before it can become a leaf.
        (
            '"n": 123456789012345678901234567890',
            "canonical form: number 123456789012345678901234567890",
        ),
        ('"n": 1e400', "not valid JSON (number is infinity"),
    ],
)
def test_json_without_a_canonical_form_is_refused_saying_why(
    db_url: str, extra: str, named: str, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    ledger.ingest(enumerate(example_events()[:1], 1))
    before = snapshot(ledger)
    line = (
        '{"id": "e2", "type": "ship", "time": "2025-01-06T00:00:00Z", "actor": "lynas-au",'
        ' "lot": "MW-1", "from": "AU-MTWELD", "to": "MY-GEBENG", "consignee": "lynas-my", '
        + extra
        + "}"
    )
    report = ledger.ingest([(7, line)])
    assert (report.accepted, report.rejected) == (0, 1)
    rejection = report.rejections[0]
    assert (rejection.line, rejection.event_id, rejection.rule) == (7, "e2", "format")
    assert named in rejection.error.message
    assert snapshot(ledger) == before


def test_a_crash_mid_batch_leaves_no_half_applied_event(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    ledger.ingest(enumerate(example_events()[:2], 1))
    before = snapshot(ledger)
    real = writes_module.executemany
    calls = {"n": 0}

    def crash_on_third_write(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("power cut")
        real(*args, **kwargs)

    monkeypatch.setattr(writes_module, "executemany", crash_on_third_write)
    with pytest.raises(RuntimeError, match="power cut"):
        ledger.ingest(enumerate(example_events()[2:], 3))
    monkeypatch.setattr(writes_module, "executemany", real)
    assert snapshot(ledger) == before
    report = ledger.ingest(enumerate(example_events(), 1))
    assert (report.accepted, report.duplicates) == (3, 2)


def test_acknowledged_events_survive_reopening(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    ledger.ingest(enumerate(example_events(), 1))
    ledger.store.close()
    reopened = Store.open(db_url)
    assert reopened.lot("NDPR-1").mass_kg == pytest.approx(104.0)
    assert reopened.size() == 4 + 5  # four registry events, five flow events


def test_migrations_match_the_schema(db_url: str, tmp_path: Path) -> None:
    store = service.init_ledger(db_url, log_dir=tmp_path / "log")
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert diff == []
    store.require_ready()  # at the head of the migrations
    assert store.schema_revision() is not None


def test_an_empty_database_asks_for_init(db_url: str) -> None:
    store = Store.open(db_url)
    with pytest.raises(ConfigError, match="raretrace init"):
        store.require_ready()


def test_unknown_lot_is_not_found_with_a_hint(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    with pytest.raises(NotFound, match="raretrace lots"):
        ledger.store.lot("NOPE")


def test_receipt_off_by_more_than_tolerance_is_listed(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    events = example_events()
    events[2] = {**events[2], "mass_kg": 970.0}
    events[3]["inputs"][0]["mass_kg"] = 970.0
    report = ledger.ingest(enumerate(events[:3], 1))
    assert report.discrepancies == 1
    (found,) = ledger.store.discrepancies()
    assert (found.lot, found.origin, found.destination) == ("MW-1", "AU-MTWELD", "MY-GEBENG")
    assert found.delta_kg == pytest.approx(-30.0)
    assert found.event_id == "e3"


def test_recomputation_agrees_with_materialized_state(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    ledger.ingest(enumerate(example_events(), 1))
    for lot in ledger.store.lots():
        assert differences(lot, recompute_lot(ledger.store, lot.id)) == []


def test_concurrent_writers_get_distinct_sequence_numbers(db_url: str, tmp_path: Path) -> None:
    new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            ledger = service.open_ledger(db_url)
            for i in range(20):
                lot = f"W{k}-{i}"
                ledger.append({
                    "id": f"w{k}-{i}", "type": "extract", "time": "2025-02-01T00:00:00Z",
                    "actor": "lynas-au", "facility": "AU-MTWELD",
                    "outputs": [{"lot": lot, "form": "ore", "mass_kg": 10.0,
                                 "elements_kg": {"Nd": 1.0}}],
                })  # fmt: skip
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    store = Store.open(db_url)
    assert store.size() == 4 + 60
    with store.engine.connect() as conn:
        sizes = [r.size for r in conn.execute(schema.checkpoints.select())]
    assert max(sizes) == 64 and len(set(sizes)) == len(sizes)
    assert store.counts()["events"]["extract"] == 60


def test_a_json_lines_file_saved_on_windows_ingests(db_url: str, tmp_path: Path) -> None:
    # A byte order mark before the first line and CRLF line ends, as Windows editors write.
    path = tmp_path / "events.jsonl"
    text = "\r\n".join(json.dumps(e) for e in example_events()) + "\r\n\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert [n for n, _ in service.numbered_lines(path)] == [1, 2, 3, 4, 5]
    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    report = ledger.ingest(service.numbered_lines(path))
    assert (report.accepted, report.rejected) == (5, 0), report.rejections


# --- opening: what is not a ledger, read-only opens -------------------------------------------

NOT_A_LEDGER = {
    "text": b"hello, this is not a ledger\n",
    "random bytes": bytes(range(256)) * 16,
    "a fake SQLite header": b"SQLite format 3\x00" + bytes(4080),
}


@pytest.mark.parametrize("content", NOT_A_LEDGER.values(), ids=NOT_A_LEDGER.keys())
@pytest.mark.parametrize("access", ["read", "write", "create"])
def test_a_file_that_is_not_a_ledger_is_refused_naming_it_and_left_alone(
    tmp_path: Path, content: bytes, access: Any
) -> None:
    path = tmp_path / "chain.db"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=r"chain\.db.* check --db / \$RARETRACE_DB"):
        Store.open(str(path), access=access).require_ready()
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.iterdir()] == ["chain.db"]


def test_a_folder_is_not_a_ledger(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a file; --db names the ledger's SQLite file"):
        Store.open(str(tmp_path), access="read")


@pytest.mark.parametrize("access", ["read", "write"])
def test_only_create_makes_a_database_file(tmp_path: Path, access: Any) -> None:
    with pytest.raises(
        ConfigError, match=r"there is no ledger at .*make one with `raretrace init`"
    ):
        Store.open(str(tmp_path / "typo.db"), access=access)
    assert list(tmp_path.iterdir()) == []


def test_a_read_open_cannot_write_and_leaves_nothing_beside_the_file(
    db_url: str, tmp_path: Path
) -> None:
    new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log").close()
    before = sorted(p.name for p in tmp_path.iterdir())
    store = Store.open(db_url, access="read")
    store.require_ready()
    assert store.size() == len(REGISTRY["participants"]) + len(REGISTRY["facilities"])
    with pytest.raises(DBAPIError, match=r"(?i)read.?only"), store.engine.begin() as conn:
        conn.execute(schema.meta.insert().values(key="x", value="y"))
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="runs the reader as another user: needs root")
def test_a_ledger_the_reader_may_not_write_is_read_in_place(tmp_path: Path) -> None:
    """A user who may not write the file or its folder (an archived ledger, another user's)
    reads it immutable: SQLite could make no -shm there, and nothing is created."""
    # Outside pytest's folder, which only root may enter; removed at the end.
    where = Path(tempfile.mkdtemp(dir="/var/tmp"))
    try:
        db = str(where / "chain.db")
        new_ledger(db, REGISTRY, log_dir=where / "log").close()
        where.chmod(0o555)
        (where / "chain.db").chmod(0o444)
        before = sorted(p.name for p in where.iterdir())
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            code = 1
            try:
                os.setgid(65534)
                os.setuid(65534)  # nobody
                assert not os.access(db, os.W_OK)
                store = Store.open(db, access="read")
                store.require_ready()
                code = 0 if store.size() == 4 and store.registry().facilities else 3
                store.close()
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert sorted(p.name for p in where.iterdir()) == before
    finally:
        where.chmod(0o755)
        shutil.rmtree(where)
