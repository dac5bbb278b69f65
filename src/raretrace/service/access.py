"""Who may do what: the roles, what each may call, and which lots and events each may see.

The table ``PERMISSIONS`` is the one docs/service.md shows (a test compares them and walks
every endpoint × role against it). Reading is confidential by design (issue 11 §3): an
operator sees the lots it holds and the events it is party to, and the provenance of a lot
it holds, but not its suppliers' other lots or events; an auditor the facilities it audits;
an authority the facilities in its country and those named on licences it issued; the council
everything; the public the registry, statistics and the log's checkpoint and hash tiles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from raretrace.domain.errors import RaretraceError
from raretrace.domain.model import Lot
from raretrace.domain.registry import Registry

OPERATOR, AUDITOR, AUTHORITY, COUNCIL, WITNESS, PUBLIC = (
    "operator", "auditor", "authority", "council", "witness", "public",
)  # fmt: skip
ROLES = (OPERATOR, AUDITOR, AUTHORITY, COUNCIL, WITNESS, PUBLIC)
#: Roles a token can be issued for (the public needs none).
TOKEN_ROLES = (OPERATOR, AUDITOR, AUTHORITY, COUNCIL, WITNESS)
#: Roles that name a registered participant, and the registry role it must hold.
PARTICIPANT_ROLES = {OPERATOR: "operator", AUDITOR: "auditor", AUTHORITY: "authority"}
SCOPED = (OPERATOR, AUDITOR, AUTHORITY, COUNCIL)

#: What each action is, and who may call it. Scoped actions answer only about the lots and
#: events the caller may see (``Scope``); anything else is 404, as if it did not exist.
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "read-public": ROLES,  # registry, statistics, checkpoint, vkey, consistency, hash tiles
    "verify-credential": ROLES,
    "read-lots": SCOPED,  # lots, trace, check, bundle export
    "read-events": SCOPED,  # events, inclusion proofs
    "read-discrepancies": SCOPED,
    "submit-events": (OPERATOR,),  # only events whose actor is the token's participant
    "load-registry": (COUNCIL,),
    "certify": (COUNCIL,),
    "read-log-entries": (COUNCIL,),  # entry bundles hold events in clear (docs/service.md)
    "cosign": (WITNESS,),
    # The clearinghouse (docs/clearinghouse.md): reads cut to the caller (a party sees its own
    # agreements and disputes in full, everyone the public fields and outcomes); licensing
    # events signed by the acting authority; agreements, disputes and statements signed by
    # the filing participant; reviews and rulings recorded by the council.
    "read-clearinghouse": ROLES,
    "licensing": (AUTHORITY,),
    "file-cases": (OPERATOR, AUTHORITY),
    "council-decisions": (COUNCIL,),
}


class Unauthorized(RaretraceError):
    """A bearer token that is not valid (unknown, wrong secret, expired or revoked)."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


class Forbidden(RaretraceError):
    """The caller's role may not do this, or not for this participant."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's id, participant and role (``public`` has neither)."""

    role: str
    participant: str | None = None
    token_id: str | None = None


ANONYMOUS = Principal(PUBLIC)


def require(principal: Principal, action: str) -> None:
    """Forbidden unless ``principal``'s role may do ``action`` (``PERMISSIONS``)."""
    if principal.role in PERMISSIONS[action]:
        return
    if principal.role == PUBLIC:
        raise Forbidden(
            "token-required",
            f"{action} needs a bearer token (Authorization: Bearer TOKEN) of role "
            f"{' or '.join(PERMISSIONS[action])}; ask the council for one",
        )
    raise Forbidden(
        "role-forbidden",
        f"a {principal.role} token may not {action}; it needs role "
        f"{' or '.join(PERMISSIONS[action])}",
    )


#: The fields of an event that name a facility (ship names two: ``from`` and ``to``).
PLACES = ("facility", "from", "to", "origin", "destination")


@dataclass(frozen=True, slots=True)
class Scope:
    """The lots and events a caller may see: everything, or those at ``facilities`` or held
    by / shipped to / acted on by ``participants``."""

    everything: bool
    facilities: frozenset[str] = frozenset()
    participants: frozenset[str] = frozenset()

    def sees_lot(self, lot: Lot) -> bool:
        """Whether the caller may see ``lot`` (and so its provenance)."""
        return self.sees_holding(lot.facility, lot.destination, lot.custodian, lot.consignee)

    def sees_holding(
        self, facility: str | None, destination: str | None, custodian: str | None,
        consignee: str | None,
    ) -> bool:  # fmt: skip
        """``sees_lot`` of a lot with these places and holders (its stored row's columns)."""
        if self.everything:
            return True
        return bool(
            {facility, destination} & self.facilities or {custodian, consignee} & self.participants
        )

    def sees_event(self, body: Mapping[str, Any]) -> bool:
        """Whether the caller is party to the event (actor, consignee, or a facility in
        scope: where it happened, where it was shipped from or to)."""
        if self.everything:
            return True
        # Only text values: a registry event carries its record under "facility".
        parties = {v for k in ("actor", "consignee") if isinstance(v := body.get(k), str)}
        places = {v for k in PLACES if isinstance(v := body.get(k), str)}
        return bool(parties & self.participants or places & self.facilities)

    def sees_facilities(self, *names: str) -> bool:
        """Whether any of ``names`` is a facility in scope."""
        return self.everything or bool(set(names) & self.facilities)


NOTHING = Scope(everything=False)
EVERYTHING = Scope(everything=True)


def scope_of(principal: Principal, registry: Registry) -> Scope:
    """What ``principal`` may read, from the registry as it stands now."""
    who = principal.participant
    if principal.role == COUNCIL:
        return EVERYTHING
    if who is None or principal.role not in SCOPED:
        return NOTHING
    if principal.role == OPERATOR:
        operated = (f.id for f in registry.facilities.values() if f.operator == who)
        return Scope(False, frozenset(operated), frozenset({who}))
    if principal.role == AUDITOR:
        audited = (a.facility for a in registry.audits.values() if a.auditor == who)
        return Scope(False, frozenset(audited))
    return Scope(False, frozenset(_jurisdiction(registry, who)))


def _jurisdiction(registry: Registry, authority: str) -> Iterable[str]:
    """Facilities in the authority's jurisdiction (its country, or for a state authority its
    subdivision: docs/clearinghouse.md) and those on licences it issued."""
    me = registry.participants.get(authority)
    country = me.country if me is not None else None
    state = me.subdivision if me is not None else ""
    yield from (f.id for f in registry.facilities.values()
                if f.country == country and (not state or f.subdivision == state))  # fmt: skip
    for licence in registry.licences.values():
        if licence.authority == authority and licence.facility:
            yield licence.facility
