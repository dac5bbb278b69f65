"""``raretrace audit`` on real ledgers: a clean store audits clean; every kind of direct
tampering with the database or the log directory (a row changed, deleted, inserted or
reordered, a checkpoint or a tile edited) is detected and named, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from ledger_support import new_ledger
from raretrace.demo.signing import signed_events, signed_world
from raretrace.domain.canonical import canonical_json
from raretrace.ledger.append import Ledger
from raretrace.ledger.audit import AuditReport, audit_ledger

pytestmark = pytest.mark.integration
EVENTS = 700  # more than two full tiles of leaves, several checkpoints


@pytest.fixture
def ledger(db_url: str, tmp_path: Path) -> Iterator[Ledger]:
    world, keys = signed_world(7)
    ledger = new_ledger(db_url, world, signed=True, log_dir=tmp_path / "log")
    report = ledger.ingest(enumerate(signed_events(EVENTS, seed=7, keys=keys), 1), batch_size=150)
    assert report.rejected == 0, report.rejections[:3]
    yield ledger
    ledger.close()


def sql(ledger: Ledger, statement: str, **params: Any) -> list[Any]:
    with ledger.store.engine.begin() as conn:
        result = conn.execute(text(statement), params)
        return list(result) if result.returns_rows else []


def audit(ledger: Ledger) -> AuditReport:
    return audit_ledger(ledger.store, workers=1)


def lines(report: AuditReport) -> list[str]:
    return [f.line() for f in report.findings]


def assert_named(report: AuditReport, check: str, table: str, key: str, text: str = "") -> None:
    hits = [
        f for f in report.findings
        if f.check == check and f.table == table and key in f.key and text in f.message
    ]  # fmt: skip
    assert hits, f"no {check} finding for {table} {key} {text!r} in {lines(report)[:20]}"


def event_of_type(ledger: Ledger, kind: str, nth: int = 0) -> tuple[int, str]:
    rows = sql(ledger, "SELECT seq, body FROM events WHERE type = :t ORDER BY seq", t=kind)
    return rows[nth][0], rows[nth][1]


def test_a_clean_ledger_audits_clean_with_worker_processes(ledger: Ledger) -> None:
    report = audit_ledger(ledger.store, full=True)
    assert report.ok, lines(report)[:20]
    total = sql(ledger, "SELECT count(*) FROM events")[0][0]
    assert report.events == report.tree_size == total
    assert report.tiles >= 4 and report.checkpoints >= 5
    assert report.lineage_lots == report.lots > 0


def test_changed_lot_mass_is_named(ledger: Ledger) -> None:
    lot = sql(ledger, "SELECT id FROM lots ORDER BY id")[3][0]
    sql(ledger, "UPDATE lots SET mass_kg = mass_kg + 1 WHERE id = :id", id=lot)
    report = audit(ledger)
    assert_named(report, "tables", "lots", repr(lot), "mass_kg")


def test_changed_event_body_fails_its_signature_and_the_log(ledger: Ledger) -> None:
    seq, body = event_of_type(ledger, "ship", 2)
    event = json.loads(body)
    event["consignee"] = event["actor"]  # still canonical, still parses; no longer signed
    forged = canonical_json(event).decode()
    sql(ledger, "UPDATE events SET body = :b WHERE seq = :s", b=forged, s=seq)
    report = audit(ledger)
    assert_named(report, "signature", "events", f"seq {seq} ", "signature-bad")
    assert_named(report, "checkpoints", "checkpoints", "size ")
    assert_named(report, "tiles", "tiles", "tile/")


def test_non_canonical_body_is_named(ledger: Ledger) -> None:
    seq, body = event_of_type(ledger, "receive")
    sql(ledger, "UPDATE events SET body = :b WHERE seq = :s", b=body.replace(":", ": ", 1), s=seq)
    assert_named(audit(ledger), "canonical", "events", f"seq {seq} ", "canonical")


def test_deleted_event_is_named(ledger: Ledger) -> None:
    seq, _ = event_of_type(ledger, "ship", 5)
    sql(ledger, "DELETE FROM events WHERE seq = :s", s=seq)
    report = audit(ledger)
    assert_named(report, "sequence", "events", f"seq {seq + 1} ", f"seq {seq} missing")
    assert_named(report, "checkpoints", "checkpoints", "size ")
    assert_named(report, "tables", "lot_events", f"seq {seq} ", "no event produces")


def test_inserted_event_is_named(ledger: Ledger) -> None:
    _, body = event_of_type(ledger, "extract")
    size = sql(ledger, "SELECT max(seq) FROM events")[0][0] + 1
    fake = json.loads(body)
    fake["id"] = "forged-extract"
    fake["outputs"][0]["lot"] = "FORGED-LOT"
    del fake["outputs"][1:]
    row = {"s": size, "i": fake["id"], "ty": "extract", "tm": fake["time"], "a": fake["actor"]}
    sql(ledger, "INSERT INTO events (seq, id, type, time, actor, body) "
        "VALUES (:s, :i, :ty, :tm, :a, :b)", **row, b=canonical_json(fake).decode())  # fmt: skip
    report = audit(ledger)
    assert_named(report, "signature", "events", f"seq {size} ('forged-extract')")
    assert_named(report, "checkpoints", "events", f"..{size}", "no signed checkpoint")
    assert_named(report, "tables", "lots", "'FORGED-LOT'", "missing")
    assert_named(report, "tables", "lot_events", f"seq {size} ", "missing")


def test_swapped_events_are_named(ledger: Ledger) -> None:
    a, _ = event_of_type(ledger, "extract", 1)
    b, _ = event_of_type(ledger, "transform", 0)
    sql(ledger, "UPDATE events SET seq = -1 WHERE seq = :a", a=a)
    sql(ledger, "UPDATE events SET seq = :a WHERE seq = :b", a=a, b=b)
    sql(ledger, "UPDATE events SET seq = :b WHERE seq = -1", b=b)
    report = audit(ledger)
    assert_named(report, "checkpoints", "checkpoints", "size ")
    assert_named(report, "tables", "lot_events", f"seq {a} ")
    assert {"rules", "tables"} <= set(report.by_check)


def test_changed_checkpoint_root_is_named(ledger: Ledger) -> None:
    size = sql(ledger, "SELECT max(size) FROM checkpoints")[0][0]
    sql(ledger, "UPDATE checkpoints SET root = :r WHERE size = :s", r="00" * 32, s=size)
    report = audit(ledger)
    assert_named(report, "checkpoints", "checkpoints", f"size {size}", "root 0000")
    assert len(report.findings) == 1


def test_forged_checkpoint_note_is_named(ledger: Ledger) -> None:
    size, note = sql(ledger, "SELECT size, note FROM checkpoints ORDER BY size")[1]
    forged = note.replace("\n\u2014 ", "\n\u2014 x", 1) if "\u2014" in note else note + "x"
    sql(ledger, "UPDATE checkpoints SET note = :n WHERE size = :s", n=forged, s=size)
    assert_named(audit(ledger), "checkpoints", "checkpoints", f"size {size}", "does not verify")


def test_edited_tile_and_bundle_are_named(ledger: Ledger) -> None:
    log = ledger.settings.log.directory
    tile = log / "tile/0/001"
    data = bytearray(tile.read_bytes())
    data[40] ^= 1
    tile.write_bytes(bytes(data))
    bundle = log / "tile/entries/000"
    entries = bytearray(bundle.read_bytes())
    entries[2 + 34 * 3] ^= 1  # leaf 3's commitment: no event text is there to edit
    bundle.write_bytes(bytes(entries))
    report = audit(ledger)
    assert_named(report, "tiles", "tiles", "tile/0/001", "hash 1")
    assert_named(report, "tiles", "tiles", "tile/entries/000")
    assert set(report.by_check) == {"tiles"}


def test_changed_lot_event_discrepancy_and_registry_rows_are_named(ledger: Ledger) -> None:
    lot, seq = sql(ledger, "SELECT lot, seq FROM lot_events ORDER BY seq DESC")[0]
    sql(ledger, "UPDATE lot_events SET mass_kg = 1 WHERE lot = :l AND seq = :s", l=lot, s=seq)
    sql(ledger, "UPDATE participants SET name = 'Someone else' WHERE id IN "
        "(SELECT id FROM participants ORDER BY id LIMIT 1)")  # fmt: skip
    sql(ledger, "DELETE FROM discrepancies WHERE seq IN "
        "(SELECT seq FROM discrepancies ORDER BY seq LIMIT 1)")  # fmt: skip
    report = audit(ledger)
    assert_named(report, "tables", "lot_events", f"seq {seq} ", "stored")
    assert_named(report, "tables", "participants", "participant ", "name: stored 'Someone else'")
    if sql(ledger, "SELECT count(*) FROM lot_events WHERE role = 'received'")[0][0]:
        assert report.by_check["tables"] >= 2


def test_wrong_log_key_fails_every_checkpoint(ledger: Ledger) -> None:
    from raretrace.log.note import generate_key

    _, other = generate_key(ledger.settings.log.origin)
    report = audit_ledger(ledger.store, workers=1, vkey=other)
    # every stored note, the public checkpoint file, and so no valid latest checkpoint
    assert report.by_check == {"checkpoints": report.checkpoints + 2}
    assert_named(report, "checkpoints", "events", "seq 0..", "no signed checkpoint covers")


def test_relaxed_signature_setting_is_caught_with_require_signatures(ledger: Ledger) -> None:
    # Someone with database access relaxes the policy and slips in an unsigned event.
    sql(ledger, "UPDATE meta SET value = 'optional' WHERE key = 'signatures'")
    seq, body = event_of_type(ledger, "adjust")
    unsigned = json.loads(body)
    del unsigned["sig"]
    sql(
        ledger, "UPDATE events SET body = :b WHERE seq = :s",
        b=canonical_json(unsigned).decode(), s=seq,
    )  # fmt: skip
    strict = audit_ledger(ledger.store, workers=1, require_signatures=True)
    assert_named(strict, "signature", "meta", "signatures", "accept unsigned events")
    assert_named(strict, "signature", "events", f"seq {seq}", "no 'sig'")


def _lot_with_routes(ledger: Ledger) -> tuple[str, dict[str, Any]]:
    """A lot whose material went through more than one step (any lot would do)."""
    rows = sql(ledger, "SELECT id, provenance FROM lots ORDER BY id")
    for lot, stored in rows:
        doc = json.loads(stored)
        if any(len(p) > 1 for p in doc["routes"]["paths"]):
            return lot, doc
    raise AssertionError("no lot with a route of several steps")


def test_a_tampered_route_is_named_by_the_replay_and_the_lineage(ledger: Ledger) -> None:
    lot, doc = _lot_with_routes(ledger)
    path = next(p for p in doc["routes"]["paths"] if len(p) > 1)
    path[0][1] = "KP"  # the material's first step now claims another country
    sql(ledger, "UPDATE lots SET provenance = :p WHERE id = :id", p=json.dumps(doc), id=lot)
    report = audit_ledger(ledger.store, full=True, workers=1)
    assert not report.ok
    assert_named(report, "tables", "lots", repr(lot), "provenance")
    assert_named(report, "lineage", "lots", repr(lot), "lineage recomputation: routes[")
    assert_named(report, "lineage", "lots", repr(lot), " KP/")


def test_a_tampered_route_share_is_named(ledger: Ledger) -> None:
    lot, doc = _lot_with_routes(ledger)
    element = sorted(doc["routes"]["shares"])[0]
    shares = doc["routes"]["shares"][element]
    doc["routes"]["shares"][element] = [s * 0.5 for s in shares]
    sql(ledger, "UPDATE lots SET provenance = :p WHERE id = :id", p=json.dumps(doc), id=lot)
    report = audit_ledger(ledger.store, full=True, workers=1)
    assert_named(report, "lineage", "lots", repr(lot), f"routes[{element}][")


def test_a_tampered_claim_is_named(db_url: str, tmp_path: Path) -> None:
    from ledger_chains import REGISTRY

    ledger = new_ledger(db_url, REGISTRY, log_dir=tmp_path / "log")
    events = [
        {"id": "x1", "type": "extract", "time": "2025-01-01T00:00:00Z", "actor": "miner-au",
         "facility": "MINE-AU", "outputs": [{"lot": "L1", "form": "ore", "mass_kg": 100.0,
                                             "elements_kg": {"Nd": 10.0}}]},
        {"id": "c1", "type": "claim", "time": "2025-01-02T00:00:00Z", "actor": "miner-au",
         "lot": "L1", "scheme": "subsidy-a", "share": 0.5},
    ]  # fmt: skip
    assert ledger.ingest(enumerate(events, 1)).rejected == 0
    assert audit_ledger(ledger.store, full=True, workers=1).ok
    doc = json.loads(sql(ledger, "SELECT provenance FROM lots WHERE id = 'L1'")[0][0])
    assert doc["claimed"] == {"subsidy-a": {"Nd": 0.5}} and doc["claims"] == {"subsidy-a": ["c1"]}
    doc["claimed"]["subsidy-a"]["Nd"] = 0.0  # hide the claim, to claim the lot again
    sql(ledger, "UPDATE lots SET provenance = :p WHERE id = 'L1'", p=json.dumps(doc))
    report = audit_ledger(ledger.store, full=True, workers=1)
    assert_named(report, "tables", "lots", "'L1'", "provenance")
    assert_named(report, "lineage", "lots", "'L1'", "claimed[subsidy-a][Nd]: stored 0.0")
    ledger.close()
