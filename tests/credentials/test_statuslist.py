"""Bitstring Status List: bit order, encoding, entries, the list state and reading status."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import pytest

from raretrace.credentials import MIN_ENTRIES, StatusBits, StatusListState, check_status
from raretrace.credentials.statuslist import status_entry, status_list_credential
from raretrace.domain.errors import ConfigError, ValidationError, VerificationError

URL = "https://council.example/credentials/status/revocation-1"
# The example encodedList of Bitstring Status List v1.0 §2.2: 16 KB of zeros.
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_the_specs_example_list_is_131072_clear_entries() -> None:
    bits = StatusBits.decode(SPEC_EXAMPLE)
    assert len(bits) == MIN_ENTRIES == 131_072
    assert bits.set_indexes() == []


def test_index_zero_is_the_left_most_bit_of_the_first_byte() -> None:
    bits = StatusBits.zeros()
    assert bits.with_bit(0, True).data[:2] == b"\x80\x00"
    assert bits.with_bit(7, True).data[:2] == b"\x01\x00"
    assert bits.with_bit(8, True).data[:2] == b"\x00\x80"
    last = bits.with_bit(MIN_ENTRIES - 1, True)
    assert last.data[-1] == 0x01 and last.get(MIN_ENTRIES - 1)
    assert last.with_bit(MIN_ENTRIES - 1, False) == bits


def test_encoding_is_multibase_base64url_of_gzip_and_round_trips() -> None:
    bits = StatusBits.zeros().with_bit(5, True).with_bit(94567, True)
    encoded = bits.encode()
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded
    raw = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert raw == bits.data
    assert StatusBits.decode(encoded).set_indexes() == [5, 94567]
    assert encoded == bits.encode()  # deterministic: fixed GZIP mtime


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ("zABC", "base64url multibase"),
        ("uAAAA", "not GZIP"),
        (
            "u" + base64.urlsafe_b64encode(gzip.compress(bytes(100))[:-5]).decode().rstrip("="),
            "truncated",
        ),
        (
            "u" + base64.urlsafe_b64encode(gzip.compress(bytes(17 << 20))).decode().rstrip("="),
            "more than",
        ),
    ],
)
def test_a_broken_encoded_list_is_refused(encoded: str, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        StatusBits.decode(encoded)


def test_lists_shorter_than_herd_privacy_allows_are_not_made() -> None:
    with pytest.raises(ConfigError, match="131072"):
        StatusBits.zeros(1024)


def _state(purpose: str = "revocation") -> StatusListState:
    return StatusListState(list_url=URL, issuer="did:web:council.example", purpose=purpose)


def test_allocation_is_random_and_never_repeats() -> None:
    state, seen = _state(), []
    for n in range(200):
        state, index = state.allocate(f"urn:cred:{n}")
        seen.append(index)
    assert len(set(seen)) == 200
    assert seen != sorted(seen)  # not handed out in order
    assert state.allocated[seen[0]] == "urn:cred:0"


def test_setting_needs_an_allocated_index_and_a_reason() -> None:
    state, index = _state().allocate("urn:cred:1")
    with pytest.raises(ValidationError, match="never given"):
        state.set((index + 1) % MIN_ENTRIES, reason="fraud", time="2026-06-01T00:00:00Z")
    with pytest.raises(ValidationError, match="say why"):
        state.set(index, reason=" ", time="2026-06-01T00:00:00Z")
    revoked = state.set(index, reason="mass fraction misstated", time="2026-06-01T00:00:00Z")
    assert revoked.bits().get(index) and not state.bits().get(index)
    assert revoked.changes[index].reason == "mass fraction misstated"


def test_revocation_cannot_be_undone_but_suspension_can() -> None:
    state, index = _state().allocate("urn:cred:1")
    revoked = state.set(index, reason="fraud", time="t")
    with pytest.raises(ValidationError, match="not reversible"):
        revoked.clear(index)
    held, index = _state("suspension").allocate("urn:cred:2")
    held = held.set(index, reason="audit pending", time="t")
    assert not held.clear(index).bits().get(index)


def _list(bits: StatusBits, **changes: Any) -> dict[str, Any]:
    cred = status_list_credential(
        list_url=URL,
        issuer="did:web:council.example",
        purpose="revocation",
        bits=bits,
        valid_from="2026-01-01T00:00:00Z",
        valid_until="2026-02-01T00:00:00Z",
    )
    cred["credentialSubject"].update(changes)
    return cred


def test_check_status_reads_the_entrys_bit() -> None:
    entry = status_entry(list_url=URL, index=94567)
    assert entry == {
        "id": f"{URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": URL,
    }
    clear = check_status(entry, _list(StatusBits.zeros()))
    assert not clear.is_set and clear.index == 94567
    assert check_status(entry, _list(StatusBits.zeros().with_bit(94567, True))).is_set


@pytest.mark.parametrize(
    ("entry_change", "list_change", "message"),
    [
        ({"statusPurpose": "suspension"}, {}, "STATUS_VERIFICATION_ERROR"),
        ({"statusListCredential": URL + "x"}, {}, "not 'https"),
        ({"statusListIndex": "-1"}, {}, "base-10"),
        ({"statusListIndex": 7}, {}, "base-10"),
        ({"statusSize": 2}, {}, "statusSize"),
        ({"type": "StatusList2021Entry"}, {}, "not supported"),
        ({"statusListIndex": str(MIN_ENTRIES)}, {}, "RANGE_ERROR"),
        ({}, {"type": "StatusList2021"}, "not a BitstringStatusList"),
        (
            {},
            {
                "encodedList": "u"
                + base64.urlsafe_b64encode(gzip.compress(bytes(1024))).decode().rstrip("=")
            },
            "STATUS_LIST_LENGTH_ERROR",
        ),
    ],
)
def test_check_status_refuses_what_does_not_fit(
    entry_change: dict[str, Any], list_change: dict[str, Any], message: str
) -> None:
    entry = {**status_entry(list_url=URL, index=12), **entry_change}
    with pytest.raises(VerificationError, match=message):
        check_status(entry, _list(StatusBits.zeros(), **list_change))
