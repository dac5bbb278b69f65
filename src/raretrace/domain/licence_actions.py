"""Licensing by the authorities themselves: issue, renew, suspend, reinstate, revoke.

Each is a ``licensing`` event signed by the authority that acts (docs/clearinghouse.md), and
its effect is the licence record as it becomes (domain/licensing.py), so compliance packs
read suspensions and revocations like validity dates. An authority acts within its
jurisdiction: its country, narrowed to its ``subdivision`` (ISO 3166-2) for a state or
provincial authority; a licence's place is its facility's country and subdivision (an export
licence's, its holder's country, a national matter). On a licence it did not issue, only a
national authority over a state issuer of its own country may act.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from raretrace.domain import casework as cw
from raretrace.domain.casework import Step
from raretrace.domain.licensing import Licence, LicenceRevocation, Suspension, parse_licence
from raretrace.domain.model import Participant, display_time, normalize_time

if TYPE_CHECKING:
    from raretrace.domain.registry import Registry

ACTIONS: tuple[str, ...] = ("issue", "renew", "suspend", "reinstate", "revoke")


@dataclass(frozen=True, slots=True)
class Place:
    """Where a licence applies, for jurisdiction: a country and maybe a subdivision."""

    country: str
    subdivision: str
    what: str

    def area(self) -> str:
        return self.subdivision or f"{self.country} (national)"


def jurisdiction(authority: Participant) -> str:
    """An authority's jurisdiction, as words: ``MY-08`` or ``MY (national)``."""
    return authority.subdivision or f"{authority.country} (national)"


def covers(authority: Participant, place: Place) -> bool:
    """Whether ``place`` lies in the authority's jurisdiction: a national authority covers
    its whole country, a state authority only its own subdivision."""
    if authority.country != place.country:
        return False
    return not authority.subdivision or authority.subdivision == place.subdivision


def place_of(licence: Licence, registry: Registry) -> Place:
    """Where ``licence`` applies: its facility, or (export) its holder's country."""
    if licence.facility is not None:
        facility = registry.facility(licence.facility)
        return Place(facility.country, facility.subdivision, f"facility {facility.id!r}")
    holder = registry.participants[licence.holder]
    return Place(holder.country, "", f"exports by {holder.id!r}")


def apply_licensing(
    raw: Mapping[str, Any], *, actor: str, step: Step, registry: Registry
) -> Licence:
    """A ``licensing`` event: the licence as the action leaves it, or the rule it breaks."""
    event_subject = f"event {step.event!r}"
    authority = _authority(registry, actor, event_subject)
    action = cw.choice(raw, "action", event_subject, ACTIONS)
    if action == "issue":
        return _issue(raw, authority, step, registry)
    licence_id = cw.ident(raw, "licence", event_subject)
    licence = registry.licences.get(licence_id)
    subject = f"licence {licence_id!r}"
    if licence is None:
        raise cw.fail(
            "unknown-licence", subject, "no licence with this id is registered; issue it first"
        )
    _may_act(authority, licence, registry, action)
    if licence.revoked is not None:
        raise cw.fail(
            "licence-revoked",
            subject,
            f"was revoked on {display_time(licence.revoked.at)}; a revoked licence cannot be"
            f" {_past(action)}: issue a new licence",
        )
    return _CHANGES[action](raw, licence, authority, step)


def _past(action: str) -> str:
    return {"renew": "renewed", "suspend": "suspended", "reinstate": "reinstated",
            "revoke": "revoked again"}[action]  # fmt: skip


def _authority(registry: Registry, actor: str, subject: str) -> Participant:
    who = registry.participants.get(actor)
    if who is None or "authority" not in who.roles:
        raise cw.fail(
            "licence-authority",
            subject,
            f"{actor!r} does not hold the 'authority' role in the registry; licences are"
            " issued and changed by authorities",
        )
    return who


def _issue(
    raw: Mapping[str, Any], authority: Participant, step: Step, registry: Registry
) -> Licence:
    licence = parse_licence(raw.get("licence"), registry)
    subject = f"licence {licence.id!r}"
    if licence.id in registry.licences:
        raise cw.fail(
            "licence-exists",
            subject,
            "a licence with this id is registered already; renew, suspend or revoke it, or"
            " issue a new licence under a new id",
        )
    if licence.authority != authority.id:
        raise cw.fail(
            "licence-issuer",
            subject,
            f"names {licence.authority!r} as its authority but {authority.id!r} issues it; a"
            " licence names its issuer",
        )
    if licence.suspensions or licence.revoked is not None:
        raise cw.fail(
            "format", subject, "a new licence has no 'suspensions' or 'revoked'; record them later"
        )
    place = place_of(licence, registry)
    if not covers(authority, place):
        raise _outside(authority, licence, place, "issue")
    return licence


def _outside(authority: Participant, licence: Licence, place: Place, action: str) -> Exception:
    return cw.fail(
        "licence-jurisdiction",
        f"licence {licence.id!r}",
        f"{authority.id!r} is an authority of {jurisdiction(authority)}, but the licence is for"
        f" {place.what} in {place.area()}; only an authority whose jurisdiction covers it may"
        f" {action} it",
    )


def _may_act(authority: Participant, licence: Licence, registry: Registry, action: str) -> None:
    place = place_of(licence, registry)
    if not covers(authority, place):
        raise _outside(authority, licence, place, action)
    if authority.id == licence.authority:
        return
    issuer = registry.participants.get(licence.authority)
    over_state = (
        not authority.subdivision and issuer is not None and bool(issuer.subdivision)
        and issuer.country == authority.country
    )  # fmt: skip
    if not over_state:
        raise cw.fail(
            "licence-issuer",
            f"licence {licence.id!r}",
            f"was issued by {licence.authority!r}; only its issuer (or a national authority of"
            f" {place.country} over a state issuer) may {action} it, not {authority.id!r}",
        )


def _renew(raw: Mapping[str, Any], licence: Licence, authority: Participant, step: Step) -> Licence:
    subject = f"licence {licence.id!r}"
    until = normalize_time(raw.get("valid_until"), subject)
    current = licence.valid_until
    if current is None:
        raise cw.fail("licence-renewal", subject, "has no end date; there is nothing to renew")
    if until <= current or until <= step.time:
        raise cw.fail(
            "licence-renewal",
            subject,
            f"valid_until {display_time(until)} must be after its current end"
            f" {display_time(current)} and after the renewal ({display_time(step.time)})",
        )
    return replace(licence, valid_until=until)


def _suspend(
    raw: Mapping[str, Any], licence: Licence, authority: Participant, step: Step
) -> Licence:
    subject = f"licence {licence.id!r}"
    current = licence.suspended
    if current is not None:
        raise cw.fail(
            "licence-suspended",
            subject,
            f"is suspended already since {display_time(current.start)}; reinstate it first",
        )
    last = licence.suspensions[-1].end if licence.suspensions else None
    if last is not None:
        cw.not_before(last, step.time, subject, step.event)
    pause = Suspension(step.time, cw.text(raw, "reason", subject), None, authority.id)
    return replace(licence, suspensions=(*licence.suspensions, pause))


def _reinstate(
    raw: Mapping[str, Any], licence: Licence, authority: Participant, step: Step
) -> Licence:
    subject = f"licence {licence.id!r}"
    current = licence.suspended
    if current is None:
        raise cw.fail(
            "licence-not-suspended",
            subject,
            "is not suspended; only a suspended licence is reinstated",
        )
    cw.not_before(current.start, step.time, subject, step.event)
    if step.time == current.start:
        raise cw.fail("time-order", subject, "a reinstatement must come after the suspension")
    cw.text(raw, "reason", subject, required=False)
    ended = replace(current, end=step.time)
    return replace(licence, suspensions=(*licence.suspensions[:-1], ended))


def _revoke(
    raw: Mapping[str, Any], licence: Licence, authority: Participant, step: Step
) -> Licence:
    subject = f"licence {licence.id!r}"
    if licence.suspensions:
        last = licence.suspensions[-1]
        cw.not_before(last.end or last.start, step.time, subject, step.event)
    revocation = LicenceRevocation(step.time, cw.text(raw, "reason", subject), authority.id)
    return replace(licence, revoked=revocation)


_CHANGES = {"renew": _renew, "suspend": _suspend, "reinstate": _reinstate, "revoke": _revoke}
