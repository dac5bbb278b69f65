"""The public log reveals no event content (issue 11 §3): every leaf is the salted commitment
SHA-256(salt || event), each event has a salt of its own in the store, the tiles and entry
bundles hold nothing of the events, and the audit recomputes every commitment and names an
event or salt changed after it was logged; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
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
from raretrace.log.tiles import TileReader, decode_entry_bundle

pytestmark = pytest.mark.integration
EVENTS = 300  # with the demo registry, more than one full tile and entry bundle


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


def stored(ledger: Ledger) -> list[tuple[int, str, str, bytes]]:
    rows = sql(ledger, "SELECT seq, id, body, salt FROM events ORDER BY seq")
    return [(seq, event_id, body, bytes(salt)) for seq, event_id, body, salt in rows]


def findings(report: AuditReport, check: str) -> list[str]:
    return [f"{f.table} {f.key}: {f.message}" for f in report.findings if f.check == check]


def test_each_leaf_is_the_salted_commitment_to_its_event(ledger: Ledger) -> None:
    events = stored(ledger)
    reader = TileReader(ledger.settings.log.directory, len(events))
    for seq, _, body, salt in events:
        assert len(salt) == 32
        assert reader.read_entry(seq) == hashlib.sha256(salt + body.encode("utf-8")).digest()
    salts = [salt for *_, salt in events]
    assert len(set(salts)) == len(salts)  # a fresh salt per event, registry events included


def test_the_published_tiles_hold_no_event_content(ledger: Ledger) -> None:
    """Grep every published file for what the events say: ids, lots, participants, places."""
    events = [json.loads(body) for _, _, body, _ in stored(ledger)]
    words = {e["id"] for e in events} | {e["actor"] for e in events}
    words |= {e["lot"] for e in events if isinstance(e.get("lot"), str)}
    words |= {o["lot"] for e in events for o in e.get("outputs", [])}
    words |= {e["facility"] for e in events if isinstance(e.get("facility"), str)}
    words |= {e["facility"]["id"] for e in events if isinstance(e.get("facility"), dict)}
    words |= {'"mass_kg"', '"elements_kg"', "concentrate", "registry"}
    log = ledger.settings.log.directory
    published = [log / "checkpoint", *(p for p in (log / "tile").rglob("*") if p.is_file())]
    assert len(published) >= 6  # the checkpoint, hash tiles at two levels, entry bundles
    for path in published:
        data = path.read_bytes()
        leaked = sorted(w for w in words if len(w) > 3 and w.encode() in data)
        assert not leaked, f"{path.relative_to(log)} holds {leaked[:5]}"
    for path in (log / "tile" / "entries").rglob("*"):
        if path.is_file():
            assert {len(e) for e in decode_entry_bundle(path.read_bytes())} == {32}


def test_a_changed_salt_is_named_under_leaf_commitment(ledger: Ledger) -> None:
    seq, event_id, _, salt = stored(ledger)[120]
    changed = bytes([salt[0] ^ 1]) + salt[1:]
    sql(ledger, "UPDATE events SET salt = :s WHERE seq = :q", s=changed, q=seq)
    report = audit_ledger(ledger.store, workers=1)
    named = findings(report, "leaf-commitment")
    assert len(named) == 1 and named[0].startswith(f"events seq {seq} ({event_id!r}): the stored")
    assert f"published log's leaf {seq}" in named[0] and "body or salt was changed" in named[0]
    assert report.by_check.get("signature") is None  # the event itself still verifies
    assert report.by_check["checkpoints"] >= 1  # every later root changed


def test_a_changed_event_is_named_under_leaf_commitment(ledger: Ledger) -> None:
    seq, event_id, body, _ = next(r for r in stored(ledger) if '"type":"receive"' in r[2])
    event = json.loads(body)
    event["mass_kg"] = 1.25  # the body is still canonical: the commitment gives it away
    sql(
        ledger,
        "UPDATE events SET body = :b WHERE seq = :q",
        b=canonical_json(event).decode(),
        q=seq,
    )
    report = audit_ledger(ledger.store, workers=1)
    assert any(
        line.startswith(f"events seq {seq} ({event_id!r})")
        for line in findings(report, "leaf-commitment")
    ), findings(report, "leaf-commitment")


def test_a_removed_salt_is_named(ledger: Ledger) -> None:
    seq, event_id, *_ = stored(ledger)[3]
    sql(ledger, "UPDATE events SET salt = NULL WHERE seq = :q", q=seq)
    named = findings(audit_ledger(ledger.store, workers=1), "leaf-commitment")
    assert any(f"seq {seq} ({event_id!r}): has no salt" in line for line in named), named


def test_an_untouched_ledger_audits_clean(ledger: Ledger) -> None:
    report = audit_ledger(ledger.store, workers=1)
    assert report.ok, [f.line() for f in report.findings][:5]
