"""Bearer tokens of the HTTP service: issued for a participant and role, shown once, stored
as the SHA-256 of their secret, revocable, listed.

A token reads ``rt_<id>_<secret>``: the id (12 hex digits) finds the row, the secret (32
random bytes, base64url) is checked against the stored digest in constant time. The secret
carries 256 bits of entropy, so a plain SHA-256 is enough to make a stolen table useless (a
slow password hash protects guessable secrets; these are not).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, bindparam, select, update

from raretrace.domain.errors import ConfigError, NotFound
from raretrace.domain.registry import Registry
from raretrace.ledger.keyfiles import checked_id
from raretrace.service.access import (
    PARTICIPANT_ROLES,
    PUBLIC,
    TOKEN_ROLES,
    Principal,
    Unauthorized,
)
from raretrace.store import schema
from raretrace.store.store import Store

PREFIX = "rt_"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """A stored token, without its secret."""

    id: str
    participant: str
    role: str
    created: str
    expires: str | None
    revoked: str | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked is not None:
            return "revoked"
        if self.expires is not None and _parse_stamp(self.expires) <= now:
            return "expired"
        return "active"

    def to_json(self, now: datetime) -> dict[str, str | None]:
        """As ``raretrace token list --json`` prints it."""
        return {
            "id": self.id,
            "participant": self.participant,
            "role": self.role,
            "created": self.created,
            "expires": self.expires,
            "revoked": self.revoked,
            "state": self.state(now),
        }


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token: the bearer string (shown once, never stored) and its record."""

    bearer: str
    record: TokenRecord


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def parse_expiry(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """``--expires``: a date (the token works through that day, UTC) or an RFC 3339 time;
    it must lie in the future."""
    if text is None:
        return None
    current = now or _now()
    try:
        if len(text) == 10:
            when = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            when += timedelta(days=1)
        else:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if when.tzinfo is None:
                raise ValueError("no time zone")
    except ValueError:
        raise ConfigError(
            f"--expires {text!r} is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone"
            " (2027-01-31T12:00:00Z)"
        ) from None
    if when <= current:
        raise ConfigError(
            f"--expires {text!r} is not in the future (now is {_stamp(current)}); give a later date"
        )
    return when.astimezone(UTC)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_holder(registry: Registry, participant: str, role: str) -> None:
    """ConfigError or NotFound unless ``role`` may be given to ``participant``: a known
    role other than public, and for operator, auditor and authority a registered participant
    holding that role in the registry."""
    if role not in TOKEN_ROLES:
        hint = "; the public needs no token" if role == PUBLIC else ""
        raise ConfigError(f"--role {role!r} is not one of: {', '.join(TOKEN_ROLES)}{hint}")
    checked_id(participant, "--participant")
    if role not in PARTICIPANT_ROLES:
        return  # a council or witness name need not be a ledger participant
    found = registry.participants.get(participant)
    if found is None:
        raise NotFound(
            f"participant {participant!r} is not in the registry; an {role} token acts for a"
            " registered participant (load it with `raretrace registry load`)"
        )
    if PARTICIPANT_ROLES[role] not in found.roles:
        raise ConfigError(
            f"participant {participant!r} has roles {', '.join(found.roles)} in the registry,"
            f" not {PARTICIPANT_ROLES[role]}; give it that role in the registry first"
        )


def issue(store: Store, *, participant: str, role: str, expires: str | None) -> IssuedToken:
    """Make a token for ``participant`` acting as ``role``; the bearer string is returned
    once and only its digest is stored."""
    when = parse_expiry(expires)
    check_holder(store.registry(), participant, role)
    token_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    record = TokenRecord(
        token_id, participant, role, _stamp(_now()), None if when is None else _stamp(when), None
    )
    with store.engine.begin() as conn:
        conn.execute(
            schema.api_tokens.insert().values(
                id=record.id, digest=_digest(secret), participant=participant, role=role,
                created=record.created, expires=record.expires, revoked=None,
            )
        )  # fmt: skip
    return IssuedToken(f"{PREFIX}{token_id}_{secret}", record)


def _records(store: Store) -> list[TokenRecord]:
    t = schema.api_tokens
    query = select(t.c.id, t.c.participant, t.c.role, t.c.created, t.c.expires, t.c.revoked)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(t.c.created, t.c.id)).all()
    return [TokenRecord(*row) for row in rows]


def listed(store: Store) -> list[TokenRecord]:
    """Every token ever issued, oldest first (secrets are not kept, so none is shown)."""
    return _records(store)


def revoke(store: Store, token_id: str) -> tuple[TokenRecord, bool]:
    """Revoke a token by id (the part after ``rt_`` and before the next ``_``, as
    ``token list`` shows it; a whole bearer string is accepted too). Returns the record and
    whether this call revoked it (False: it was revoked before)."""
    wanted = _id_of(token_id)
    t = schema.api_tokens
    with store.engine.begin() as conn:
        row = conn.execute(select(t.c.revoked).where(t.c.id == wanted)).first()
        if row is None:
            raise NotFound(f"no token has id {wanted!r}; list them with `raretrace token list`")
        if row.revoked is None:
            conn.execute(update(t).where(t.c.id == wanted).values(revoked=_stamp(_now())))
    record = next(r for r in _records(store) if r.id == wanted)
    return record, row.revoked is None


def _id_of(text: str) -> str:
    if text.startswith(PREFIX):
        return text[len(PREFIX) :].split("_", 1)[0]
    return text


_TOKEN_BY_ID = select(schema.api_tokens).where(schema.api_tokens.c.id == bindparam("id"))


def authenticate(
    store: Store, bearer: str, *, now: datetime | None = None, conn: Connection | None = None
) -> Principal:
    """The principal a bearer token acts for; Unauthorized (never naming more than the token
    id) when it is malformed, unknown, wrong, expired or revoked.

    The token's row is read on every call (on ``conn``, the request's one connection, when
    given), never kept: a revoked token is refused from the next request on.
    """
    if not bearer.startswith(PREFIX) or "_" not in bearer[len(PREFIX) :]:
        raise Unauthorized("invalid-token", "the bearer token is not a raretrace token (rt_…)")
    token_id, secret = bearer[len(PREFIX) :].split("_", 1)
    if conn is None:
        with store.engine.connect() as c:
            return authenticate(store, bearer, now=now, conn=c)
    row = conn.execute(_TOKEN_BY_ID, {"id": token_id}).first()
    if row is None or not hmac.compare_digest(row.digest, _digest(secret)):
        raise Unauthorized("invalid-token", "the bearer token is not valid; ask for a new one")
    if row.revoked is not None:
        raise Unauthorized("token-revoked", f"token {token_id} was revoked on {row.revoked}")
    current = now or datetime.now(UTC)
    if row.expires is not None and _parse_stamp(row.expires) <= current:
        raise Unauthorized("token-expired", f"token {token_id} expired at {row.expires}")
    return Principal(row.role, row.participant, token_id)
