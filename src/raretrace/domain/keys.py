"""Participant signing keys and event signatures (Ed25519 over RFC 8785 canonical JSON).

An event carries ``"sig": {"kid", "alg": "Ed25519", "value": base64}``; the signature covers
the canonical JSON (RFC 8785) of the event without ``sig``, so the same event signs the same
way in any language. Keys live in the registry with a validity window; an event is checked
against the key of its ``actor`` that was valid at the event's time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from raretrace.domain.canonical import canonical_json
from raretrace.domain.errors import ValidationError
from raretrace.domain.ids import check_id
from raretrace.domain.model import normalize_time

ALG = "Ed25519"
_KEY_FIELDS = frozenset({"kid", "public_key", "valid_from", "revoked_at"})


@dataclass(frozen=True, slots=True)
class ParticipantKey:
    """One public key of a participant, valid from ``valid_from`` until ``revoked_at``."""

    kid: str
    public_key: bytes
    valid_from: str
    revoked_at: str | None = None

    def valid_at(self, time: str) -> bool:
        """Whether the key may sign an event dated ``time`` (normalized UTC strings)."""
        return self.valid_from <= time and (self.revoked_at is None or time < self.revoked_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "public_key": base64.b64encode(self.public_key).decode(),
            "valid_from": _display(self.valid_from),
            "revoked_at": None if self.revoked_at is None else _display(self.revoked_at),
        }


def _display(normalized: str) -> str:
    return normalized.replace(".000000Z", "Z")


def _b64(value: object, subject: str, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise ValidationError("registry-format", subject, f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("registry-format", subject, f"{what} is not valid base64") from None
    if size is not None and len(raw) != size:
        raise ValidationError(
            "registry-format", subject, f"{what} must be {size} bytes, got {len(raw)}"
        )
    return raw


def parse_key(obj: object, subject: str) -> ParticipantKey:
    """A registry ``keys`` item."""
    if not isinstance(obj, Mapping):
        raise ValidationError("registry-format", subject, "each key must be an object")
    kid = check_id(obj.get("kid"), subject, "kid", rule="registry-format")
    where = f"{subject} key {kid!r}"
    unknown = set(obj) - _KEY_FIELDS
    if unknown:
        # Strict: a misspelt 'revoked_at' must not silently leave a key valid forever.
        raise ValidationError(
            "registry-format", where,
            f"unknown field(s) {sorted(unknown)}; a key has only {sorted(_KEY_FIELDS)}",
        )  # fmt: skip
    revoked = obj.get("revoked_at")
    return ParticipantKey(
        kid=kid,
        public_key=_b64(obj.get("public_key"), where, "public_key", 32),
        valid_from=normalize_time(obj.get("valid_from"), where),
        revoked_at=None if revoked is None else normalize_time(revoked, where),
    )


def parse_keys(value: object, subject: str) -> tuple[ParticipantKey, ...]:
    """A participant's ``keys`` list (absent: no keys)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError("registry-format", subject, "'keys' must be a list")
    keys = tuple(parse_key(item, subject) for item in value)
    kids = [k.kid for k in keys]
    if len(set(kids)) != len(kids):
        raise ValidationError("registry-format", subject, f"key ids must be unique, got {kids}")
    return keys


_public_keys: dict[bytes, Ed25519PublicKey] = {}  # loaded keys, per process


def public_key(raw: bytes) -> Ed25519PublicKey:
    """The loaded Ed25519 key for 32 raw bytes (cached: events reuse a handful of keys)."""
    key = _public_keys.get(raw)
    if key is None:
        if len(_public_keys) >= 4096:
            _public_keys.clear()
        key = _public_keys[raw] = Ed25519PublicKey.from_public_bytes(raw)
    return key


def signing_bytes(event: Mapping[str, Any]) -> bytes:
    """What a participant signs: the canonical JSON of the event without ``sig``."""
    return canonical_json({k: v for k, v in event.items() if k != "sig"})


def sign_event(event: Mapping[str, Any], key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    """The event with a ``sig`` made by ``key`` (any previous ``sig`` is replaced)."""
    signature = key.sign(signing_bytes(event))
    return {
        **{k: v for k, v in event.items() if k != "sig"},
        "sig": {"kid": kid, "alg": ALG, "value": base64.b64encode(signature).decode()},
    }


def check_signature(
    event: Mapping[str, Any],
    time: str,
    keys: Mapping[str, tuple[ParticipantKey, ...]],
    *,
    message: bytes | None = None,
) -> None:
    """Raise ValidationError unless ``event`` is signed by a valid key of its actor.

    ``time`` is the event's normalized time; ``keys`` maps participant ids to their keys;
    ``message`` is ``signing_bytes(event)`` when the caller has already computed it.
    """
    event_id = event.get("id")
    subject = f"event {event_id!r}"
    sig = event.get("sig")
    if not isinstance(sig, Mapping):
        raise ValidationError(
            "signature-missing", subject,
            "the event has no 'sig'; sign it with the actor's key (`raretrace sign`)",
        )  # fmt: skip
    kid, alg = sig.get("kid"), sig.get("alg")
    if alg != ALG:
        raise ValidationError("signature-bad", subject, f"'alg' must be {ALG!r}, got {alg!r}")
    actor = event.get("actor")
    key = _find_key(keys, actor, kid, subject)
    if not key.valid_at(time):
        raise ValidationError(
            "signature-key-not-valid", subject,
            f"key {kid!r} of {actor!r} is valid from {_display(key.valid_from)}"
            + (f" until {_display(key.revoked_at)}" if key.revoked_at else "")
            + f"; the event is dated {_display(time)}: sign it with a key of {actor!r} valid"
            " then (`raretrace sign`)",
        )  # fmt: skip
    value = _b64_signature(sig.get("value"), subject)
    try:
        public_key(key.public_key).verify(
            value, message if message is not None else signing_bytes(event)
        )
    except InvalidSignature:
        raise ValidationError(
            "signature-bad", subject,
            f"the signature does not verify under key {kid!r} of {actor!r}; the event was"
            " changed after signing or signed with another key",
        ) from None  # fmt: skip


def _find_key(
    keys: Mapping[str, tuple[ParticipantKey, ...]], actor: object, kid: object, subject: str
) -> ParticipantKey:
    own = keys.get(actor, ()) if isinstance(actor, str) else ()
    for key in own:
        if key.kid == kid:
            return key
    for owner, theirs in keys.items():
        if any(k.kid == kid for k in theirs):
            raise ValidationError(
                "signature-wrong-participant", subject,
                f"key {kid!r} belongs to {owner!r}, not to the actor {actor!r}; an event is"
                " signed by its actor's own key",
            )  # fmt: skip
    raise ValidationError(
        "signature-unknown-key", subject,
        f"no registered key {kid!r} for {actor!r}; register it under the participant's 'keys'",
    )  # fmt: skip


def _b64_signature(value: object, subject: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 64:
        raise ValidationError(
            "signature-bad", subject, "'sig.value' must be a base64 Ed25519 signature (64 bytes)"
        )
    return raw
