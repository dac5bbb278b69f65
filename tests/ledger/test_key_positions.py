"""Key validity follows the log, not the claimed date: on the append path, in the audit and in
an offline bundle verification, on SQLite and PostgreSQL.

A key signs the events appended after the registry event that registered it and before the
one that revoked it; an event's ``time`` is the signer's word and plays no part.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from examples import example_events, example_registry
from ledger_support import new_ledger, snapshot
from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import ValidationError, VerificationError
from raretrace.domain.keys import BEFORE_THE_LOG, KeyHistory, LoggedKey, parse_key, sign_event
from raretrace.ledger import service
from raretrace.ledger.append import Ledger
from raretrace.ledger.audit import audit_ledger
from raretrace.ledger.bundle import build_bundle, export_bundle, own_trust
from raretrace.ledger.keyfiles import KeyFile, new_key
from raretrace.ledger.settings import LedgerSettings
from raretrace.store.store import Store
from raretrace.verify import verify_bundle

pytestmark = pytest.mark.integration
AU = new_key("lynas-au", seed=b"a" * 32)
MY = new_key("lynas-my", seed=b"m" * 32)
MY_NEXT = new_key("lynas-my", kid="lynas-my-2026", seed=b"n" * 32)
E1, E2, E3, E4, E5 = example_events()


def _registry(my_keys: list[dict[str, Any]]) -> dict[str, Any]:
    doc = example_registry()
    doc["participants"][0]["keys"] = [AU.registry_entry("2025-01-01T00:00:00Z")]
    doc["participants"][1]["keys"] = my_keys
    return doc


ROTATED = [
    MY.registry_entry("2025-01-01T00:00:00Z") | {"revoked_at": "2025-01-22T00:00:00Z"},
    MY_NEXT.registry_entry("2025-01-21T00:00:00Z"),
]


def _signed(event: dict[str, Any], key: KeyFile) -> dict[str, Any]:
    return sign_event(event, key.private_key, key.kid)


def _registry_update(ledger: Ledger, my_keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    signer = service.registry_signer(ledger)
    return service.registry_events(_registry(my_keys), ledger.registry, signer=signer)


def _rejected(ledger: Ledger, event: dict[str, Any]) -> ValidationError:
    before = snapshot(ledger)
    with pytest.raises(ValidationError) as caught:
        ledger.append(event)
    assert snapshot(ledger) == before
    return caught.value


def test_a_revocation_is_final(db_url: str, tmp_path: Path) -> None:
    ledger = new_ledger(
        db_url, _registry([MY.registry_entry("2025-01-01T00:00:00Z")]), signed=True,
        log_dir=tmp_path / "log",
    )  # fmt: skip
    ledger.ingest(enumerate(_registry_update(ledger, ROTATED), 1))
    # A later record listing the revoked key as current again is refused, nothing written.
    unrevoked = [MY.registry_entry("2025-01-01T00:00:00Z"), ROTATED[1]]
    (record,) = _registry_update(ledger, unrevoked)
    exc = _rejected(ledger, record)
    assert exc.rule == "key-revocation-final"
    assert exc.subject == f"participant 'lynas-my' key {MY.kid!r}"
    assert exc.detail == (
        "was registered at log position 1 (valid_from 2025-01-01T00:00:00Z) and revoked at log"
        " position 4 (revoked_at 2025-01-22T00:00:00Z), and this record lists it without"
        " 'revoked_at'; a revocation is final: keep its 'revoked_at', and register a new key"
        " (`raretrace keygen`) for the participant to sign with"
    )
    # Changing the record time of the revocation is fine: the log position stays.
    (moved,) = _registry_update(
        ledger, [ROTATED[0] | {"revoked_at": "2025-01-23T00:00:00Z"}, ROTATED[1]]
    )
    ledger.append(moved)
    late = _signed({**E1, "actor": "lynas-my", "id": "late"}, MY)
    assert _rejected(ledger, late).rule == "signature-key-not-valid"
    assert audit_ledger(ledger.store, workers=1).ok
    ledger.close()


def test_another_writers_revocation_binds_an_open_ledger(db_url: str, tmp_path: Path) -> None:
    first = new_ledger(
        db_url, _registry([MY.registry_entry("2025-01-01T00:00:00Z")]), signed=True,
        log_dir=tmp_path / "log",
    )  # fmt: skip
    first.ingest(enumerate([_signed(E1, AU), _signed(E2, AU)], 1))
    second = service.open_ledger(db_url)
    second.ingest(enumerate(_registry_update(second, ROTATED), 1))
    second.close()
    # ``first`` read its keys before the revocation; it re-reads them under the writer lock.
    exc = _rejected(first, _signed({**E3, "time": "2025-01-05T00:00:00Z"}, MY))
    assert exc.rule == "signature-key-not-valid" and "revoked at log position 6" in exc.detail
    first.append(_signed(E3, MY_NEXT))
    first.close()


class _Forger(Ledger):
    """A rewritten ledger: it lets MY_NEXT sign before the registry event that registers it,
    as an operator rewriting its log (or filling its tables past the append path) would."""

    def keys(self, registry: Any = None) -> KeyHistory:
        real = super().keys(registry)
        early = parse_key(MY_NEXT.registry_entry("2025-01-21T00:00:00Z"), "forger")
        mine = (*real.by_owner["lynas-my"], LoggedKey("lynas-my", early, BEFORE_THE_LOG))
        return KeyHistory({**real.by_owner, "lynas-my": mine})


def test_an_event_before_its_keys_registration_fails_audit_and_verify(
    db_url: str, tmp_path: Path
) -> None:
    honest = new_ledger(
        db_url, _registry([MY.registry_entry("2025-01-01T00:00:00Z")]), signed=True,
        log_dir=tmp_path / "log",
    )  # fmt: skip
    honest.ingest(enumerate([_signed(E1, AU), _signed(E2, AU), _signed(E3, MY)], 1))
    # The honest append path refuses the event: the key is not registered yet.
    exc = _rejected(honest, _signed(E4, MY_NEXT))
    assert exc.rule == "signature-unknown-key"
    honest.close()
    forger = _Forger(Store.open(db_url, access="write"))
    assert forger.append(_signed(E4, MY_NEXT)).accepted == 1  # at log position 7
    forger.close()
    honest = service.open_ledger(db_url)
    report = honest.ingest(enumerate([*_registry_update(honest, ROTATED), _signed(E5, MY_NEXT)], 1))
    assert (report.accepted, report.rejected) == (2, 0), report.rejections
    expected = (
        "key 'lynas-my-2026' of 'lynas-my' was registered at log position 8 (valid_from"
        " 2025-01-21T00:00:00Z) and is not revoked; this event is at log position 7, whatever"
        " its claimed time (2025-01-25T00:00:00Z) says"
    )
    findings = audit_ledger(honest.store, workers=1).findings
    assert [(f.check, f.key) for f in findings] == [("signature", "seq 7 ('e4')")], findings
    assert findings[0].message.startswith(f"[signature-key-not-valid] event 'e4': {expected}")
    assert findings[0].message.endswith("treat the event as forged and tell the ledger's operator")
    # Offline: the bundle of the transform's output carries both records and the event, each
    # with its leaf index and inclusion proof; the verifier names the event and the key.
    settings = LedgerSettings.from_meta(honest.store.meta())
    bundle = canonical_json(build_bundle(honest.store, "NDPR-1"))
    with pytest.raises(VerificationError) as caught:
        verify_bundle(bundle, own_trust(settings), witnesses=0)
    assert caught.value.message.startswith(
        f"event 'e4' (leaf 7): signature: [signature-key-not-valid] event 'e4': {expected}"
    ), caught.value.message
    with pytest.raises(VerificationError, match="signature-key-not-valid"):
        export_bundle(honest.store, "NDPR-1")
    honest.close()


def test_events_before_a_revocation_stay_valid_in_audit_and_bundles(
    db_url: str, tmp_path: Path
) -> None:
    # e3 is signed with MY and appended before MY's revocation; e4 and e5 with MY_NEXT, after
    # its registration, though e4 claims a time before MY_NEXT's valid_from.
    ledger = new_ledger(
        db_url, _registry([MY.registry_entry("2025-01-01T00:00:00Z")]), signed=True,
        log_dir=tmp_path / "log",
    )  # fmt: skip
    events = [_signed(E1, AU), _signed(E2, AU), _signed(E3, MY)]
    events += _registry_update(ledger, ROTATED)
    events += [_signed({**E4, "time": "2025-01-20T12:00:00Z"}, MY_NEXT), _signed(E5, MY_NEXT)]
    report = ledger.ingest(enumerate(events, 1))
    assert (report.accepted, report.rejected) == (6, 0), report.rejections
    assert audit_ledger(ledger.store, workers=2).ok
    verdict = export_bundle(ledger.store, "NDPR-1").verdict
    assert verdict.registry_events == 5 and verdict.custody_events == 5
    ledger.close()
