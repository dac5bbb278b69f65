"""Participant signatures on the append path, on SQLite and PostgreSQL.

Every rejection names its rule; the worker-process path and the in-process path agree.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select

from examples import example_events, example_registry
from ledger_support import new_ledger, snapshot
from raretrace.domain.errors import ValidationError
from raretrace.domain.keys import sign_event
from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.ledger.keyfiles import KeyFile, new_key
from raretrace.store import schema

pytestmark = pytest.mark.integration
AU = new_key("lynas-au", seed=b"a" * 32)
MY = new_key("lynas-my", seed=b"m" * 32)
MY_NEXT = new_key("lynas-my", kid="lynas-my-2026", seed=b"n" * 32)


def _registry(my_keys: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    doc = example_registry()
    doc["participants"][0]["keys"] = [AU.registry_entry("2025-01-01T00:00:00Z")]
    doc["participants"][1]["keys"] = my_keys or [MY.registry_entry("2025-01-01T00:00:00Z")]
    return doc


def _signed(event: dict[str, Any], key: KeyFile | None = None) -> dict[str, Any]:
    key = key or (AU if event["actor"] == "lynas-au" else MY)
    return sign_event(event, key.private_key, key.kid)


def _ledger(db_url: str, log_dir: Path, registry: dict[str, Any] | None = None) -> Ledger:
    return new_ledger(db_url, registry or _registry(), signed=True, log_dir=log_dir)


def _rejected(ledger: Ledger, event: dict[str, Any]) -> ValidationError:
    before = snapshot(ledger)
    with pytest.raises(ValidationError) as caught:
        ledger.append(event)
    assert snapshot(ledger) == before
    return caught.value


def test_signed_chain_is_accepted_and_leaves_are_rfc8785(db_url: str, tmp_path: Path) -> None:
    ledger = _ledger(db_url, tmp_path / "log")
    signed = [_signed(e) for e in example_events()]
    report = ledger.ingest(enumerate(signed, 1))
    assert (report.accepted, report.rejected) == (5, 0)
    with ledger.store.engine.connect() as conn:
        bodies = dict(conn.execute(select(schema.events.c.id, schema.events.c.body)).all())
    for event in signed:
        assert bodies[event["id"]].encode() == rfc8785.dumps(event)


def test_missing_bad_unknown_and_foreign_signatures_are_named(db_url: str, tmp_path: Path) -> None:
    ledger = _ledger(db_url, tmp_path / "log")
    first = example_events()[0]
    assert _rejected(ledger, first).rule == "signature-missing"
    tampered = _signed(first)
    tampered["outputs"][0]["mass_kg"] = 2000.0
    exc = _rejected(ledger, tampered)
    assert exc.rule == "signature-bad" and "changed after signing" in exc.detail
    stranger = new_key("lynas-au", kid="nobody-knows")
    exc = _rejected(ledger, _signed(first, stranger))
    assert exc.rule == "signature-unknown-key" and "'nobody-knows'" in exc.detail
    exc = _rejected(ledger, _signed(first, MY))
    assert exc.rule == "signature-wrong-participant"
    assert f"{MY.kid!r} belongs to 'lynas-my', not to the actor 'lynas-au'" in exc.detail
    assert exc.detail.endswith("an event is signed by its actor's own key")
    bad_alg = _signed(first)
    bad_alg["sig"]["alg"] = "RS256"
    assert _rejected(ledger, bad_alg).rule == "signature-bad"


def test_a_key_registered_revoked_never_signs_whatever_the_dates(
    db_url: str, tmp_path: Path
) -> None:
    # The record says the key held from 2025-01-01 to 2025-01-10, and e3 is dated before
    # neither; but the revocation is logged with the registration, so no leaf lies between.
    revoked = MY.registry_entry("2025-01-01T00:00:00Z") | {"revoked_at": "2025-01-10T00:00:00Z"}
    ledger = _ledger(db_url, tmp_path / "log", _registry([revoked]))
    events = [_signed(e) for e in example_events()]
    ledger.ingest(enumerate(events[:2], 1))
    back_dated = _signed({**example_events()[2], "time": "2025-01-05T00:00:00Z"})
    exc = _rejected(ledger, back_dated)
    assert exc.rule == "signature-key-not-valid"
    assert "(valid_from 2025-01-01T00:00:00Z) and revoked at log position" in exc.detail
    assert "(revoked_at 2025-01-10T00:00:00Z)" in exc.detail
    assert "whatever its claimed time (2025-01-05T00:00:00Z) says" in exc.detail
    assert exc.detail.endswith("(`raretrace keygen`, then `raretrace registry load`)")


def test_a_late_joiners_key_signs_history_dated_before_its_valid_from(
    db_url: str, tmp_path: Path
) -> None:
    # Lynas Malaysia joins in 2026 and records its 2025 receipts: the key is registered
    # before the events are appended, which is all the log asks.
    ledger = _ledger(
        db_url, tmp_path / "log", _registry([MY.registry_entry("2026-03-01T00:00:00Z")])
    )
    report = ledger.ingest(enumerate([_signed(e) for e in example_events()], 1))
    assert (report.accepted, report.rejected) == (5, 0), report.rejections


def test_key_rotation_is_a_registry_event(db_url: str, tmp_path: Path) -> None:
    ledger = _ledger(db_url, tmp_path / "log")
    events = [_signed(e) for e in example_events()]
    ledger.ingest(enumerate(events[:3], 1))
    rotated = _registry(
        [
            MY.registry_entry("2025-01-01T00:00:00Z") | {"revoked_at": "2025-01-22T00:00:00Z"},
            MY_NEXT.registry_entry("2025-01-21T00:00:00Z"),
        ]
    )
    signer = service.registry_signer(ledger)
    changes = service.registry_events(rotated, ledger.registry, signer=signer)
    assert [c["type"] for c in changes] == ["participant"]
    # The rotation and an event signed with the new key arrive in the same batch.
    new_signed = _signed(events[3] | {"sig": None}, MY_NEXT)
    report = ledger.ingest(enumerate([*changes, new_signed], 1))
    assert (report.accepted, report.rejected) == (2, 0), report.rejections
    old_key_late = _signed(example_events()[4], MY)  # dated 2025-01-26, after the revocation
    assert _rejected(ledger, old_key_late).rule == "signature-key-not-valid"
    # Back-dated to before the revocation's record time: still after it in the log.
    back_dated = _signed({**example_events()[4], "time": "2025-01-21T12:00:00Z"}, MY)
    exc = _rejected(ledger, back_dated)
    assert exc.rule == "signature-key-not-valid"
    assert exc.detail.startswith(
        f"key {MY.kid!r} of 'lynas-my' was registered at log position 1 (valid_from"
        " 2025-01-01T00:00:00Z) and revoked at log position 7 (revoked_at 2025-01-22T00:00:00Z);"
        " an event appended now comes after that, whatever its claimed time"
        " (2025-01-21T12:00:00Z) says"
    ), exc.detail
    with ledger.store.engine.connect() as conn:
        assert conn.execute(select(schema.events.c.type)).all().count(("participant",)) == 3


def test_registry_events_need_the_registry_authority(db_url: str, tmp_path: Path) -> None:
    ledger = _ledger(db_url, tmp_path / "log")
    unsigned = service.registry_events(_registry(), ledger.registry.__class__())
    exc = _rejected(ledger, {**unsigned[0], "id": "forged-1"})
    assert exc.rule == "signature-missing"
    forged = sign_event({**unsigned[0], "id": "forged-2"}, AU.private_key, AU.kid)
    assert _rejected(ledger, forged).rule in (
        "signature-unknown-key",
        "signature-wrong-participant",
    )


def test_worker_processes_agree_with_in_process_checks(db_url: str, tmp_path: Path) -> None:
    ledger = _ledger(db_url, tmp_path / "log")
    events = []
    for i in range(600):
        event = copy.deepcopy(example_events()[0])
        event["id"] = f"x{i}"
        event["outputs"][0]["lot"] = f"X-{i}"
        events.append(_signed(event))
    events[123]["outputs"][0]["mass_kg"] = 999.0  # breaks its signature
    events[456]["sig"]["kid"] = "who"
    report = ledger.ingest(enumerate(events, 1), batch_size=300)
    assert report.accepted == 598
    assert [(r.line, r.rule) for r in report.rejections] == [
        (124, "signature-bad"),
        (457, "signature-unknown-key"),
    ]
    ledger.close()


def test_an_event_too_large_for_a_log_entry_is_rejected_alone(db_url: str, tmp_path: Path) -> None:
    ledger = _ledger(db_url, tmp_path / "log")
    events = [_signed(e) for e in example_events()[:2]]
    bulky = _signed({**example_events()[0], "id": "bulky", "notes": "x" * 70_000})
    bulky["outputs"] = [{**bulky["outputs"][0], "lot": "BULKY-1"}]
    bulky = _signed(bulky)
    report = ledger.ingest(enumerate([events[0], bulky, events[1]], 1))
    assert (report.accepted, report.rejected) == (2, 1)
    (rejection,) = report.rejections
    assert rejection.rule == "event-too-large" and "65,535" in rejection.error.message
