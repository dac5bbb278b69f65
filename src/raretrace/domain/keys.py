"""Participant signing keys and event signatures (Ed25519 over RFC 8785 canonical JSON).

An event carries ``"sig": {"kid", "alg": "Ed25519", "value": base64}``; the signature covers
the canonical JSON (RFC 8785) of the event without ``sig``, so the same event signs the same
way in any language. Keys live in the registry; which events a key may sign is decided by the
log, not by the event's claimed ``time``: a key signs the events appended after the registry
event that registered it and before the one that revoked it (``KeyHistory``). An event's
``time`` is the signer's word; its log position is not (docs/architecture.md).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

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
    """One public key of a participant as a registry record lists it.

    ``valid_from`` and ``revoked_at`` are record times: what the participant declares (shown,
    exported, kept). Which events the key may sign follows the log instead (``LoggedKey``).
    """

    kid: str
    public_key: bytes
    valid_from: str
    revoked_at: str | None = None

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


#: The log position of keys configured with the ledger rather than registered in its log
#: (the registry authority's): in force from before the first leaf.
BEFORE_THE_LOG = -1
#: How a key's span in the log ended: its revocation was logged, its owner's record no longer
#: lists it, or the record gave its id to another public key.
EndedBy = Literal["revoked", "removed", "replaced"]


@dataclass(frozen=True, slots=True)
class LoggedKey:
    """A key as the log knows it: registered by the registry event at leaf ``registered``,
    and ended by the one at leaf ``ended`` (see ``EndedBy``).

    ``key`` is the key as its owner's records list it, with its record times (shown and
    exported, never used to decide what it may sign).
    """

    owner: str
    key: ParticipantKey
    registered: int
    ended: int | None = None
    ended_by: EndedBy | None = None

    def signs_at(self, position: int | None) -> bool:
        """Whether it may sign the event at log ``position`` (None: the next append):
        ``registered < position`` and, once ended, ``position < ended``."""
        if position is None:
            return self.ended is None
        return self.registered < position and (self.ended is None or position < self.ended)

    def describe(self) -> str:
        """Its span in the log, with the record times, for messages."""
        times = f"valid_from {_display(self.key.valid_from)}"
        if self.registered == BEFORE_THE_LOG:
            start = f"was configured with the ledger ({times})"
        else:
            start = f"was registered at log position {self.registered} ({times})"
        if self.ended is None:
            return f"{start} and is not revoked"
        if self.ended_by == "revoked":
            revoked = self.key.revoked_at
            shown = "" if revoked is None else f" (revoked_at {_display(revoked)})"
            return f"{start} and revoked at log position {self.ended}{shown}"
        if self.ended_by == "removed":
            return f"{start} and dropped from {self.owner!r}'s record at log position {self.ended}"
        return f"{start} and replaced by another key of that id at log position {self.ended}"


@dataclass(frozen=True, slots=True)
class KeyHistory:
    """Every key each participant has had, with the log positions that bound it.

    Immutable: ``recorded`` returns the history after one more participant record, so a batch
    that fails leaves the history it started from as it was. A revocation is final: a later
    record listing a revoked key without ``revoked_at`` does not bring it back (and the append
    path refuses such a record, ``check_key_record``).
    """

    by_owner: Mapping[str, tuple[LoggedKey, ...]] = field(default_factory=dict)

    def anchored(self, owner: str, keys: Iterable[ParticipantKey]) -> KeyHistory:
        """With ``owner``'s keys configured outside the log (the registry authority's): in
        force from before the first leaf, or never if one carries a ``revoked_at`` (a
        configured key has no log position its revocation could be logged at)."""
        spans = tuple(
            LoggedKey(owner, k, BEFORE_THE_LOG)
            if k.revoked_at is None
            else LoggedKey(owner, k, BEFORE_THE_LOG, BEFORE_THE_LOG, "revoked")
            for k in keys
        )
        return KeyHistory({**self.by_owner, owner: spans})

    def recorded(self, owner: str, keys: Iterable[ParticipantKey], position: int) -> KeyHistory:
        """The history after ``owner``'s record listing ``keys`` was logged at ``position``.

        Configured keys (``anchored``) are not changed by records in the log.
        """
        if any(s.registered == BEFORE_THE_LOG for s in self.by_owner.get(owner, ())):
            return self
        listed = {k.kid: k for k in keys}
        spans: list[LoggedKey] = []
        kept: set[str] = set()
        for span in self.by_owner.get(owner, ()):
            now = listed.get(span.key.kid)
            if span.ended is not None:
                spans.append(span)
            elif now is None:
                spans.append(replace(span, ended=position, ended_by="removed"))
            elif now.public_key != span.key.public_key:
                spans.append(replace(span, ended=position, ended_by="replaced"))
            elif now.revoked_at is not None:
                spans.append(replace(span, key=now, ended=position, ended_by="revoked"))
                kept.add(now.kid)
            else:
                spans.append(replace(span, key=now))  # the record times as now listed
                kept.add(now.kid)
        for key in listed.values():
            if key.kid in kept or self.revoked(owner, key) is not None:
                continue  # already open, or revoked for good
            ended = None if key.revoked_at is None else position
            spans.append(
                LoggedKey(owner, key, position, ended, None if ended is None else "revoked")
            )
        return KeyHistory({**self.by_owner, owner: tuple(spans)})

    def revoked(self, owner: str, key: ParticipantKey) -> LoggedKey | None:
        """The revoked span of ``owner``'s ``key`` (same id and public key), if it has one."""
        for span in self.by_owner.get(owner, ()):
            same = span.key.kid == key.kid and span.key.public_key == key.public_key
            if same and span.ended_by == "revoked":
                return span
        return None

    def named(self, owner: object, kid: object) -> tuple[LoggedKey, ...]:
        """``owner``'s keys with id ``kid``, in the order they were registered."""
        if not isinstance(owner, str):
            return ()
        return tuple(s for s in self.by_owner.get(owner, ()) if s.key.kid == kid)

    def signer(self, owner: object, kid: object, position: int | None) -> LoggedKey | None:
        """The key of ``owner`` with id ``kid`` that may sign at ``position``, if any."""
        for span in self.named(owner, kid):
            if span.signs_at(position):
                return span
        return None

    def owner_of(self, kid: object) -> str | None:
        """Who has (or had) a key with id ``kid``."""
        for owner, spans in self.by_owner.items():
            if any(s.key.kid == kid for s in spans):
                return owner
        return None


def check_key_record(keys: KeyHistory, owner: str, listed: Iterable[ParticipantKey]) -> None:
    """Refuse a participant record that lists a revoked key without its ``revoked_at``.

    A revocation is final: a key that leaked stays refused whatever a later record says, so
    the registry never shows as current a key the log will not accept.
    """
    for key in listed:
        span = None if key.revoked_at is not None else keys.revoked(owner, key)
        if span is not None:
            raise ValidationError(
                "key-revocation-final", f"participant {owner!r} key {key.kid!r}",
                f"{span.describe()}, and this record lists it without 'revoked_at'; a"
                " revocation is final: keep its 'revoked_at', and register a new key"
                " (`raretrace keygen`) for the participant to sign with",
            )  # fmt: skip


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
    keys: KeyHistory,
    *,
    position: int | None = None,
    message: bytes | None = None,
) -> None:
    """Raise ValidationError unless ``event`` is signed by a key of its actor that may sign
    at log ``position``.

    ``position`` is the event's leaf index (the audit, the offline verifier), or None for
    the next append (the append path: registered now and not revoked now). The event's
    claimed ``time`` plays no part: it is the signer's word, the log position is not.
    ``message`` is ``signing_bytes(event)`` when the caller has already computed it.
    """
    subject = f"event {event.get('id')!r}"
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
    key = keys.signer(actor, kid, position)
    if key is None:
        raise _no_key(keys, event, position)
    value = _b64_signature(sig.get("value"), subject)
    try:
        public_key(key.key.public_key).verify(
            value, message if message is not None else signing_bytes(event)
        )
    except InvalidSignature:
        raise ValidationError(
            "signature-bad", subject,
            f"the signature does not verify under key {kid!r} of {actor!r}; the event was"
            " changed after signing or signed with another key",
        ) from None  # fmt: skip


def _no_key(keys: KeyHistory, event: Mapping[str, Any], position: int | None) -> ValidationError:
    """Why no key of the event's actor with the event's ``kid`` may sign at ``position``."""
    subject = f"event {event.get('id')!r}"
    actor, kid = event.get("actor"), event["sig"].get("kid")
    own = keys.named(actor, kid)
    if own:
        return ValidationError("signature-key-not-valid", subject, _not_valid(own, event, position))
    owner = keys.owner_of(kid)
    if owner is not None:
        return ValidationError(
            "signature-wrong-participant", subject,
            f"key {kid!r} belongs to {owner!r}, not to the actor {actor!r}; an event is"
            " signed by its actor's own key",
        )  # fmt: skip
    return ValidationError(
        "signature-unknown-key", subject,
        f"no registered key {kid!r} for {actor!r}; register it under the participant's 'keys'",
    )  # fmt: skip


def _not_valid(spans: tuple[LoggedKey, ...], event: Mapping[str, Any], position: int | None) -> str:
    """The signature-key-not-valid detail: the key's span in the log (positions and record
    times), where the event is, and what to do."""
    span = _nearest(spans, position)
    actor = span.owner
    if position is None:
        where = "an event appended now comes after that"
        todo = (
            f"sign it with a current key of {actor!r} (`raretrace sign`), registering a new"
            " one first if it has none (`raretrace keygen`, then `raretrace registry load`)"
        )
    else:
        where = f"this event is at log position {position}"
        todo = (
            "an honest ledger never appends such an event, so its log was rewritten or"
            " filled past the append path: treat the event as forged and tell the ledger's"
            " operator"
        )
    return (
        f"key {span.key.kid!r} of {actor!r} {span.describe()}; {where}, whatever its claimed"
        f" time ({event.get('time')}) says: a key signs only the events appended after its"
        f" registration and before its revocation is logged; {todo}"
    )


def _nearest(spans: tuple[LoggedKey, ...], position: int | None) -> LoggedKey:
    """The span to explain: the latest registered before ``position``, else the first."""
    if position is None:
        return spans[-1]
    before = [s for s in spans if s.registered < position]
    return before[-1] if before else spans[0]


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
