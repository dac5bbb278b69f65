"""KeyHistory: which log positions each participant key may sign (plain values, no ledger)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from raretrace.domain.errors import ValidationError
from raretrace.domain.keys import (
    BEFORE_THE_LOG,
    KeyHistory,
    ParticipantKey,
    check_key_record,
    check_signature,
    sign_event,
)

SEED_A, SEED_B = b"a" * 32, b"b" * 32
PRIVATE_A = Ed25519PrivateKey.from_private_bytes(SEED_A)


def _key(seed: bytes, kid: str = "k1", revoked_at: str | None = None) -> ParticipantKey:
    raw = Ed25519PrivateKey.from_private_bytes(seed).public_key()
    public = raw.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return ParticipantKey(kid, public, "2025-01-01T00:00:00.000000Z", revoked_at)


REVOKED = "2025-02-01T00:00:00.000000Z"


def _spans(history: KeyHistory, owner: str = "p") -> list[tuple[str, int, int | None, str | None]]:
    return [(s.key.kid, s.registered, s.ended, s.ended_by) for s in history.by_owner[owner]]


def test_a_key_signs_strictly_between_its_registration_and_its_revocation() -> None:
    history = KeyHistory().recorded("p", [_key(SEED_A)], 3)
    history = history.recorded("p", [_key(SEED_A, revoked_at=REVOKED)], 9)
    signs = [p for p in range(12) if history.signer("p", "k1", p) is not None]
    assert signs == [4, 5, 6, 7, 8]
    assert history.signer("p", "k1", None) is None  # the next append comes after the revocation


def test_removal_replacement_and_a_return_after_removal() -> None:
    history = KeyHistory().recorded("p", [_key(SEED_A), _key(SEED_B, "k2")], 0)
    history = history.recorded("p", [_key(SEED_B, "k1")], 5)  # k1 now names B's key; k2 gone
    history = history.recorded("p", [_key(SEED_B, "k1"), _key(SEED_B, "k2")], 8)
    assert _spans(history) == [
        ("k1", 0, 5, "replaced"), ("k2", 0, 5, "removed"), ("k1", 5, None, None),
        ("k2", 8, None, None),
    ]  # fmt: skip
    assert history.signer("p", "k2", 6) is None and history.signer("p", "k2", 9) is not None


def test_a_revocation_is_final_and_checked() -> None:
    history = KeyHistory().recorded("p", [_key(SEED_A)], 0)
    history = history.recorded("p", [_key(SEED_A, revoked_at=REVOKED)], 4)
    again = history.recorded("p", [_key(SEED_A)], 7)  # listed as current again: stays revoked
    assert _spans(again) == [("k1", 0, 4, "revoked")]
    with pytest.raises(ValidationError) as caught:
        check_key_record(history, "p", [_key(SEED_A)])
    assert caught.value.rule == "key-revocation-final"
    check_key_record(history, "p", [_key(SEED_A, revoked_at=REVOKED), _key(SEED_B, "k2")])


def test_configured_keys_are_not_changed_by_records_and_sign_everywhere() -> None:
    history = KeyHistory().anchored("registry", [_key(SEED_A)])
    assert history.recorded("registry", [], 5) is history
    assert history.signer("registry", "k1", 0) is not None
    revoked = KeyHistory().anchored("registry", [_key(SEED_A, revoked_at=REVOKED)])
    assert revoked.by_owner["registry"][0].ended == BEFORE_THE_LOG
    assert revoked.signer("registry", "k1", 0) is None


def test_the_claimed_time_plays_no_part() -> None:
    history = KeyHistory().recorded("p", [_key(SEED_A)], 2)
    event = sign_event({"id": "e", "actor": "p", "time": "1999-01-01T00:00:00Z"}, PRIVATE_A, "k1")
    check_signature(event, history, position=3)
    check_signature(event, history)
    with pytest.raises(ValidationError) as caught:
        check_signature(event, history, position=2)
    assert caught.value.rule == "signature-key-not-valid"
    assert caught.value.detail.startswith(
        "key 'k1' of 'p' was registered at log position 2 (valid_from 2025-01-01T00:00:00Z) and"
        " is not revoked; this event is at log position 2, whatever its claimed time"
        " (1999-01-01T00:00:00Z) says: a key signs only the events appended after its"
        " registration and before its revocation is logged"
    )
