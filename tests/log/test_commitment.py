"""Salted leaf commitments (``raretrace.log.commitment``): the entry is SHA-256(salt || event),
a salt is 32 fresh random bytes, and a log made before commitments keeps the event itself."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raretrace.domain.errors import ValidationError
from raretrace.log.commitment import (
    COMMITMENT_SIZE,
    SALT_SIZE,
    commitment,
    log_entry,
    new_salt,
)
from raretrace.log.merkle import leaf_hash

EVENT = b'{"actor":"lynas-my","id":"e3","lot":"MW-1","type":"receive"}'


def test_the_entry_is_sha256_of_salt_then_event_and_the_leaf_hashes_it_as_rfc_9162_says() -> None:
    salt = bytes(range(32))
    entry = commitment(salt, EVENT)
    assert entry == hashlib.sha256(salt + EVENT).digest()
    assert len(entry) == COMMITMENT_SIZE
    assert leaf_hash(entry) == hashlib.sha256(b"\x00" + entry).digest()


@given(salt=st.binary(min_size=32, max_size=32), event=st.binary(max_size=300))
def test_another_salt_or_another_event_gives_another_entry(salt: bytes, event: bytes) -> None:
    other_salt = bytes([salt[0] ^ 1]) + salt[1:]
    assert commitment(salt, event) != commitment(other_salt, event)
    assert commitment(salt, event) != commitment(salt, event + b" ")
    assert log_entry(event, salt) == commitment(salt, event)


def test_salts_are_32_fresh_bytes() -> None:
    salts = {new_salt() for _ in range(1000)}
    assert len(salts) == 1000 and {len(s) for s in salts} == {SALT_SIZE}


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_a_salt_of_another_size_is_refused_naming_the_rule(size: int) -> None:
    with pytest.raises(ValidationError, match=rf"a salt is 32 bytes, this one {size}") as caught:
        commitment(b"s" * size, EVENT)
    assert caught.value.rule == "leaf-commitment"


def test_a_log_made_before_commitments_has_the_event_itself_as_its_entry() -> None:
    assert log_entry(EVENT, None) == EVENT
