"""Salted leaf commitments: what a log entry is when the log must not reveal its events.

A log whose entries are the events themselves lets anyone who mirrors the tiles read every
event. Here each entry is instead a commitment to the event::

    entry = SHA-256(salt || event bytes)        (32 bytes; salt: 32 random bytes per event)

and the Merkle leaf is, as for any entry, RFC 9162 §2.1.1's ``SHA-256(0x00 || entry)``. The
salt is kept (with the event) by the log operator and handed out with the event to whoever
may see it (an inclusion proof, an evidence bundle); with both, anyone recomputes the entry
and checks it against the log. Without the salt, the entry says nothing about the event: 256
unknown bits make guessing it hopeless even when the event itself could be guessed (a
shipment of a known lot between known partners: only its mass unknown), which a bare
``SHA-256(event)`` would not survive. SHA-256 is collision resistant, so an operator cannot
later open one entry to two different events (the commitment binds).
"""

from __future__ import annotations

import hashlib
import secrets

from raretrace.domain.errors import ValidationError

#: Bytes of a salt, and of a commitment (SHA-256).
SALT_SIZE = 32
COMMITMENT_SIZE = 32
#: The rule (audit check, verification failure) named when an event and its salt do not give
#: the entry the log holds.
RULE = "leaf-commitment"


def new_salt() -> bytes:
    """A fresh salt from the operating system's CSPRNG (``secrets``); never reuse one."""
    return secrets.token_bytes(SALT_SIZE)


def commitment(salt: bytes, event: bytes) -> bytes:
    """``SHA-256(salt || event)``: the log entry of ``event`` (its RFC 8785 bytes)."""
    if len(salt) != SALT_SIZE:
        raise ValidationError(
            RULE, "salt", f"a salt is {SALT_SIZE} bytes, this one {len(salt)}; use the event's own"
        )
    return hashlib.sha256(salt + event).digest()


def log_entry(event: bytes, salt: bytes | None) -> bytes:
    """The entry an event has in its log: the commitment, or (``salt`` None: a log made
    before commitments, whose entries are the events in clear) the event bytes themselves."""
    return event if salt is None else commitment(salt, event)
